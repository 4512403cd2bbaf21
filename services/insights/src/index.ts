// @tracer/insights: the core (pure) and the LLM adapter. The service runner (Kafka in,
// PostgreSQL out) comes with the ingest issue.

export { createLlmExplainer, type LlmConfig, type LlmExplainer, llmConfigFromEnv } from './adapters/llm.ts';
export * from './core/index.ts';
