// The raw consumer: telemetry.raw.v1 -> PostgreSQL, plus telemetry.normalized.v1 for
// attribution. Per fetched batch: decode and validate (bad events are rejects, dead-lettered
// with their reason), then one transaction per tenant that skips replays, writes the rows and
// publishes the fresh events before COMMIT. The bus commits offsets only after the handler
// returned, so a crash anywhere replays the batch and the watermarks turn it into a no-op.
import {
  type Bus,
  type ConsumedMessage,
  type ConsumerRunner,
  type ConsumerTuning,
  PermanentError,
  type Producer,
  type Reject,
} from '@tracer/bus';
import type { Pool } from '@tracer/db';
import { topics } from '@tracer/events';
import type { Logger } from '@tracer/log';
import type { ConsumerMetrics } from '../adapters/metrics.ts';
import { PostgresSink } from '../adapters/postgres-sink.ts';
import { splitSends } from '../adapters/topics.ts';
import { planRecords } from '../core/ingest-batch.ts';
import { type AcceptedEvent, decodeRawRecords, normalizedRecords } from '../core/raw-events.ts';
import { TEAM_HEADER } from '../core/record-headers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Normalized records stay under Kafka's default 1 MiB message limit. */
const NORMALIZED_RECORD_BYTES = 900 * 1024;

export interface RawConsumerOptions {
  bus: Bus;
  pool: Pool;
  log: Logger;
  groupId: string;
  rawTopic?: string;
  normalizedTopic?: string;
  /** Role for tenant transactions; null when the pool logs in as a member of tracer_app. */
  role?: string | null;
  /** Role that COPYs the append-only event tables (PostgresSinkOptions.writerRole). */
  writerRole?: string | null;
  tuning?: ConsumerTuning;
  metrics?: ConsumerMetrics;
}

export interface RawConsumer {
  runner: ConsumerRunner;
  stop(): Promise<void>;
}

/** SQLSTATE classes that mean "this input can never be written": data and constraint errors. */
function isPermanentDatabaseError(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && (code.startsWith('22') || code.startsWith('23'));
}

export async function startRawConsumer(options: RawConsumerOptions): Promise<RawConsumer> {
  const { bus, log, metrics } = options;
  const rawTopic = options.rawTopic ?? topics.raw;
  const normalizedTopic = options.normalizedTopic ?? topics.normalized;
  const sink = new PostgresSink(options.pool, {
    ...(options.role === undefined ? {} : { role: options.role }),
    ...(options.writerRole === undefined ? {} : { writerRole: options.writerRole }),
  });
  const producer: Producer = await bus.producer();

  const publishNormalized = async (fresh: AcceptedEvent[]) => {
    const messages = normalizedRecords(fresh, (events) => planRecords(events, NORMALIZED_RECORD_BYTES)).map((r) => ({
      key: r.key,
      value: r.value,
      ...(r.team !== undefined ? { headers: { [TEAM_HEADER]: r.team } } : {}),
    }));
    for (const send of splitSends(messages)) await producer.send(normalizedTopic, send);
  };

  const handler = async (messages: ConsumedMessage[]) => {
    const started = performance.now();
    const decoded = decodeRawRecords(
      messages.map((m) => {
        const team = m.headers[TEAM_HEADER]?.toString();
        return { ref: m, value: m.value, team: team && UUID.test(team) ? team : undefined };
      }),
    );
    for (const [tenant, events] of decoded.byTenant) {
      try {
        const result = await sink.writeTenant(tenant, events, publishNormalized);
        if (metrics) {
          metrics.events.inc({ outcome: 'written' }, result.fresh.length);
          metrics.events.inc({ outcome: 'duplicate' }, result.duplicates);
          metrics.seqGaps.inc(result.gapEvents);
          for (const [table, n] of Object.entries(result.rows)) if (n > 0) metrics.rows.inc({ table }, n);
        }
      } catch (err) {
        // Bad data for a column (out of range, a check) recurs on every retry: isolate the
        // record that carries it (the bus splits the batch) and dead-letter it.
        if (isPermanentDatabaseError(err)) throw new PermanentError(`database refused: ${(err as Error).message}`);
        throw err;
      }
    }
    const rejects: Reject[] = decoded.rejects.map((r) => ({
      message: r.ref,
      reason: r.reason,
      ...(r.value ? { value: r.value } : {}),
    }));
    if (metrics) {
      metrics.events.inc({ outcome: 'invalid' }, rejects.length);
      metrics.batchSeconds.observe((performance.now() - started) / 1000);
      const newest = Number(messages[messages.length - 1]?.timestamp ?? Date.now());
      metrics.lagSeconds.set(Math.max(0, (Date.now() - newest) / 1000));
    }
    return { rejects };
  };

  const runner = await bus.consume({
    groupId: options.groupId,
    topics: [rawTopic],
    handler,
    fromBeginning: true,
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  log.info({ rawTopic, normalizedTopic, groupId: options.groupId }, 'raw consumer started');
  return {
    runner,
    async stop() {
      await runner.stop();
      await producer.close();
    },
  };
}
