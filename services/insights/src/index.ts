// @tracer/insights: the core (pure), the LLM adapter and the service runner
// (telemetry.normalized.v1 + tasks.v1 in, the `insights` table and insights.v1 out).

export { createLlmExplainer, type LlmConfig, type LlmExplainer, llmConfigFromEnv } from './adapters/llm.ts';
export * from './core/index.ts';
export { ConfigError, loadServiceConfig, type ServiceConfig } from './service/config.ts';
export { type RunningInsights, startInsights } from './service/server.ts';
