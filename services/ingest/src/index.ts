// @tracer/ingest: the HTTP gateway for agents and the raw consumer (DESIGN.md section 2).
// Processes: src/gateway/main.ts and src/consumer/main.ts. The pure core is "./core".

export {
  announceRevocation,
  createApiKey,
  KeyStore,
  listApiKeys,
  REVOCATION_CHANNEL,
  revokeApiKey,
} from './adapters/postgres-keys.ts';
export {
  ConfigError,
  type ConsumerConfig,
  type GatewayConfig,
  loadConsumerConfig,
  loadGatewayConfig,
} from './config.ts';
export { type RawConsumer, startRawConsumer } from './consumer/raw-consumer.ts';
export { type RunningConsumer, startConsumer } from './consumer/server.ts';
export * from './core/index.ts';
export { BATCH_CONTENT_TYPE } from './gateway/batch-parser.ts';
export { type RunningGateway, startGateway } from './gateway/server.ts';
