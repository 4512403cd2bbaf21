export * from './addresses.ts';
export { createKafka, describeKafka, readinessTopic } from './kafka.ts';
export { ensureDirs, repoRoot, type StackPaths, stackPaths } from './paths.ts';
export { assertPortFree, isPortFree, portHolder } from './ports.ts';
export { createPostgres, hasTimescale, queryPostgres } from './postgres.ts';
export { createRedis, pingRedis } from './redis.ts';
export type { LocalServer, Progress, ServerState, ServerStatus } from './server.ts';
export { StackError } from './server.ts';
export {
  createAttributionService,
  createHostAgent,
  createIngestConsumer,
  createIngestGateway,
  createInsightsService,
  servicePorts,
} from './services.ts';
export { createServiceStack, createStack, createStackOf, type Stack } from './stack.ts';
