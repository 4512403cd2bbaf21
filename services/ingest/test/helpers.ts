// Test aids for ingest's integration suites: a migrated database of its own per file (the
// template of @tracer/db's tests), unique topics and groups, and the gateway and raw consumer
// started in-process on the real local stack (or a second Kafka of the test's own).
import { randomBytes } from 'node:crypto';
import { type Bus, createKafkaBus } from '@tracer/bus';
import { goldenEvents, type TelemetryEvent } from '@tracer/events';
import { createLogger, type Logger } from '@tracer/log';
import { freshDatabase, type TestDatabase } from '../../../packages/db/test/helpers.ts';
import { type ConsumerConfig, type GatewayConfig, loadConsumerConfig, loadGatewayConfig } from '../src/config.ts';
import { type RunningConsumer, startConsumer } from '../src/consumer/server.ts';
import { type RunningGateway, startGateway } from '../src/gateway/server.ts';

export { freshDatabase, type TestDatabase };

export function quietLogger(name: string): Logger {
  const log = createLogger(name);
  log.level = process.env.TRACER_LOG_LEVEL ?? 'error';
  return log;
}

export function uniqueName(prefix: string): string {
  return `test.${prefix}.${Date.now().toString(36)}.${randomBytes(3).toString('hex')}`;
}

/** A tenant id of its own (tenant ids allow [A-Za-z0-9._-]). */
export function uniqueTenant(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}

export interface IngestEnv {
  db: TestDatabase;
  rawTopic: string;
  normalizedTopic: string;
  groupId: string;
  /** Environment for loadGatewayConfig/loadConsumerConfig (and child processes). */
  env: NodeJS.ProcessEnv;
  bus: Bus;
  close(): Promise<void>;
}

export async function ingestEnv(label: string, extra: NodeJS.ProcessEnv = {}): Promise<IngestEnv> {
  const db = await freshDatabase(label);
  const rawTopic = uniqueName(`${label}.raw`);
  const normalizedTopic = uniqueName(`${label}.normalized`);
  const groupId = uniqueName(`${label}.group`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRACER_DATABASE_URL: db.url,
    TRACER_INGEST_RAW_TOPIC: rawTopic,
    TRACER_INGEST_NORMALIZED_TOPIC: normalizedTopic,
    TRACER_INGEST_CONSUMER_GROUP: groupId,
    TRACER_INGEST_TOPIC_PARTITIONS: '4',
    TRACER_INGEST_PORT: '0',
    TRACER_INGEST_CONSUMER_PORT: '0',
    ...extra,
  };
  const bus = createKafkaBus({
    brokers: loadGatewayConfig(env).kafkaBrokers,
    clientId: 'tracer-ingest-test',
    logger: quietLogger('ingest-test-bus'),
  });
  return {
    db,
    rawTopic,
    normalizedTopic,
    groupId,
    env,
    bus,
    async close() {
      await bus.deleteTopics([rawTopic, `${rawTopic}.dlq`, normalizedTopic]).catch(() => {});
      await bus.close();
      await db.drop();
    },
  };
}

export function gatewayConfig(env: IngestEnv, overrides: Partial<GatewayConfig> = {}): GatewayConfig {
  return { ...loadGatewayConfig(env.env), ...overrides };
}

export function consumerConfig(env: IngestEnv, overrides: Partial<ConsumerConfig> = {}): ConsumerConfig {
  return { ...loadConsumerConfig(env.env), ...overrides };
}

export async function runGateway(env: IngestEnv, overrides: Partial<GatewayConfig> = {}): Promise<RunningGateway> {
  return startGateway(gatewayConfig(env, overrides), quietLogger('ingest-gateway-test'));
}

export async function runConsumer(env: IngestEnv, overrides: Partial<ConsumerConfig> = {}): Promise<RunningConsumer> {
  const running = await startConsumer(consumerConfig(env, overrides), quietLogger('ingest-consumer-test'));
  await running.consumer.runner.ready;
  return running;
}

/** Resolves when `check` holds, polling; fails after `timeoutMs` with `what` in the message. */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const BOOT_PREFIX = '0badc0de';

/**
 * A synthetic agent's events in the shapes the real agent emits: for each process an exec,
 * `samples` samples, a log chunk, a file open and an exit; seq counts up from `startSeq`.
 */
export function syntheticEvents(options: {
  tenant: string;
  host: string;
  agentId: string;
  processes: number;
  samples?: number;
  startSeq?: number;
  startPid?: number;
  baseTs?: number;
}): TelemetryEvent[] {
  const golden = (type: TelemetryEvent['type']) => goldenEvents.find((e) => e.type === type)!;
  const out: TelemetryEvent[] = [];
  let seq = options.startSeq ?? 0;
  const base = options.baseTs ?? Date.now() * 1e6;
  const env = { tenant: options.tenant, host: options.host, agentId: options.agentId };
  for (let i = 0; i < options.processes; i++) {
    const pid = (options.startPid ?? 10_000) + i;
    const startNs = 1_000_000_000 + pid * 1000;
    const upid = `${BOOT_PREFIX}-${pid}-${startNs}`;
    const ts = base + i * 1000;
    out.push({ ...golden('process.exec'), ...env, seq: seq++, ts, pid, upid, ppid: 1 } as TelemetryEvent);
    for (let s = 0; s < (options.samples ?? 1); s++) {
      out.push({
        ...golden('process.sample'),
        ...env,
        seq: seq++,
        ts: ts + 100 + (s + 1) * 1_000_000,
        pid,
        upid,
      } as TelemetryEvent);
    }
    out.push({ ...golden('log.chunk'), ...env, seq: seq++, ts: ts + 200, pid, upid } as TelemetryEvent);
    out.push({ ...golden('file.open'), ...env, seq: seq++, ts: ts + 300, pid, upid } as TelemetryEvent);
    out.push({
      ...golden('process.exit'),
      ...env,
      seq: seq++,
      ts: ts + 400,
      pid,
      upid,
      durationNs: 400,
    } as TelemetryEvent);
  }
  return out;
}
