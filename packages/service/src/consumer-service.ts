// What a Kafka group consumer service runs beside its consumer: the health endpoint, and the
// stop order: stop consuming (the in-flight batch commits), close Kafka, then the HTTP
// endpoint, then the pool last.
import type { Logger } from '@tracer/log';
import type { Registry } from 'prom-client';
import { consumerReadiness, startHealthServer } from './health-server.ts';

export interface ConsumerServiceOptions {
  /** For the log lines: "<name> running", "<name> stopped". */
  name: string;
  log: Logger;
  host: string;
  port: number;
  registry: Registry;
  groupId: string;
  /** More fields for the "running" log line. */
  details?: Record<string, unknown>;
  consumer: { runner: { ready: Promise<unknown>; stats(): unknown }; stop(): Promise<void> };
  bus: { close(): Promise<void> };
  pool: { query(sql: string): Promise<unknown>; end(): Promise<void> };
}

export interface ConsumerService {
  /** http://host:port of the health and metrics endpoint. */
  url: string;
  /** Stops everything, once; later calls get the same promise. */
  close(): Promise<void>;
}

export async function serveConsumer(options: ConsumerServiceOptions): Promise<ConsumerService> {
  const { consumer, bus, pool, log } = options;
  const http = await startHealthServer({
    host: options.host,
    port: options.port,
    registry: options.registry,
    readiness: consumerReadiness(consumer.runner.ready, pool),
  });
  log.info({ url: http.url, groupId: options.groupId, ...options.details }, `${options.name} running`);
  let closing: Promise<void> | undefined;
  return {
    url: http.url,
    close() {
      closing ??= (async () => {
        await consumer.stop();
        await bus.close();
        await http.close();
        await pool.end();
        log.info({ stats: consumer.runner.stats() }, `${options.name} stopped`);
      })();
      return closing;
    },
  };
}
