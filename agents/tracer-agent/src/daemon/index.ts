// The host agent as a daemon (`tracer agent start`): config, spool, sinks, shipper.

export { type AgentStatus, type RunningAgent, startAgentDaemon, statusFile } from './agent-daemon.ts';
export {
  type AgentConfig,
  AgentConfigError,
  agentEnvironment,
  loadAgentConfig,
  type RawSettings,
  redactedConfig,
} from './config.ts';
export { Shipper } from './shipper.ts';
export { createGatewaySink } from './sinks/gateway-sink.ts';
export { createKafkaSink } from './sinks/kafka-sink.ts';
export type { SendOutcome, Sink } from './sinks/sink.ts';
export { Spool, type SpoolRecord, type SpoolStats } from './spool.ts';
