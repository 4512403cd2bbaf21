// @tracer/insights: the core (pure) and the LLM adapter. The service runner (Kafka in,
// PostgreSQL out) comes with the ingest issue.
export * from './core/index.ts';
export { createLlmExplainer, llmConfigFromEnv, type LlmConfig, type LlmExplainer } from './adapters/llm.ts';
