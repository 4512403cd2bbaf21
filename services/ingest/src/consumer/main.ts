// The raw consumer process: config first (a bad variable stops it, named), then the consumer;
// SIGTERM/SIGINT let the in-flight batch commit, then close (runService: bounded by a grace period).
import { createLogger } from '@tracer/log';
import { runService } from '@tracer/service';
import { loadConsumerConfig } from '../config.ts';
import { startConsumer } from './server.ts';

await runService({
  name: 'tracer-ingest-consumer',
  log: createLogger('ingest-consumer'),
  loadConfig: () => loadConsumerConfig(),
  start: startConsumer,
});
