// The attribution consumer: telemetry.normalized.v1 -> runs/steps/tasks/tool_executions and
// tasks.v1. Per fetched batch, messages are decoded (invalid events are rejects, dead-lettered
// with their reason) and grouped by (tenant, host). Per group, in ONE tenant transaction: lock
// the host's snapshot (reload it when another instance saved since), skip events at or below
// the per-agent watermark, apply the core message by message (each agent batch a step of live
// status), answer file wants for this machine's events, forget what is finished, upsert the
// rows, publish the changes before COMMIT, save the snapshot. The bus commits offsets only
// after the handler returned, so a crash anywhere replays into no-ops.
import {
  type BatchHandler,
  type Bus,
  type ConsumedMessage,
  type ConsumerRunner,
  type ConsumerTuning,
  PermanentError,
  type Producer,
  type Reject,
} from '@tracer/bus';
import {
  consumerStateVersion,
  loadConsumerState,
  type Pool,
  type PoolClient,
  saveConsumerState,
  withTenant,
} from '@tracer/db';
import {
  type AttributionChange,
  decodeRecord,
  hostKey,
  type TelemetryEvent,
  topics,
  validateEvent,
} from '@tracer/events';
import type { Logger } from '@tracer/log';
import {
  attribute,
  DEFAULT_GRACE_NS,
  type FileFact,
  type FileWant,
  forgetFinished,
  type ToolRules,
} from '../core/index.ts';
import { readFileFact } from '../file-facts.ts';
import { decodeHostState, encodeHostState, type HostState, newHostState, takeFresh } from './host-state.ts';
import type { AttributionMetrics } from './metrics.ts';
import { writeRows } from './postgres-rows.ts';
import { planRows } from './rows.ts';

/** The consumer_state service name. */
export const SERVICE = 'attribution';
/** Header ingest sets on normalized records: the team of the API key. Carried to tasks.v1. */
export const TEAM_HEADER = 'tracer.team';
/** Values of one tasks.v1 produce request, under the topic's record-batch limit. */
const MAX_SEND_BYTES = 4 * 1024 * 1024;
/** File-fact rounds per step: a fact may raise a new want (a glob resolved, a header read). */
const FACT_ROUNDS = 4;
/** A host state unused this long leaves the cache (its snapshot is in the database). */
const CACHE_IDLE_MS = 10 * 60_000;

export interface AttributionConsumerOptions {
  bus: Bus;
  pool: Pool;
  log: Logger;
  rules: ToolRules;
  groupId: string;
  inputTopic?: string;
  outputTopic?: string;
  role?: string | null;
  /** Events of this host get file facts from the local disk; null = none. */
  localHost: string | null;
  graceNs?: number;
  tuning?: ConsumerTuning;
  metrics?: AttributionMetrics;
  /** Reads a wanted file (tests may substitute); the local disk by default. */
  readFact?: (want: FileWant) => FileFact;
}

export interface AttributionConsumer {
  runner: ConsumerRunner;
  stop(): Promise<void>;
}

/** One host's events of a fetched batch, one list per Kafka message (an agent batch). */
interface HostGroup {
  tenant: string;
  host: string;
  team: string | undefined;
  chunks: TelemetryEvent[][];
}

export function groupByHost(messages: readonly ConsumedMessage[]): { groups: HostGroup[]; rejects: Reject[] } {
  const groups = new Map<string, HostGroup>();
  const rejects: Reject[] = [];
  for (const message of messages) {
    const record = decodeRecord(message.value);
    if ('reason' in record) {
      rejects.push({ message, reason: record.reason });
      continue;
    }
    const team = message.headers[TEAM_HEADER]?.toString();
    const chunks = new Map<HostGroup, TelemetryEvent[]>();
    record.items.forEach((item, i) => {
      if ('error' in item) {
        rejects.push({ message, reason: `event ${i}: ${item.error}`, value: Buffer.from(item.line) });
        return;
      }
      const checked = validateEvent(item.value);
      if (!checked.ok) {
        rejects.push({
          message,
          reason: `event ${i}: ${checked.reason}`,
          value: Buffer.from(JSON.stringify(item.value)),
        });
        return;
      }
      const { tenant, host } = checked.event;
      const key = hostKey(tenant, host);
      let group = groups.get(key);
      if (!group) {
        group = { tenant, host, team, chunks: [] };
        groups.set(key, group);
      }
      if (team !== undefined) group.team = team;
      let chunk = chunks.get(group);
      if (!chunk) {
        chunk = [];
        chunks.set(group, chunk);
        group.chunks.push(chunk);
      }
      chunk.push(checked.event);
    });
  }
  return { groups: [...groups.values()], rejects };
}

/** SQLSTATE classes that mean "this input can never be written": data and constraint errors. */
const isPermanentDatabaseError = (err: unknown) => /^2[23]/.test(String((err as { code?: unknown }).code ?? ''));

export type HandlerOptions = Omit<AttributionConsumerOptions, 'bus' | 'groupId' | 'inputTopic' | 'tuning'> & {
  producer: Producer;
};

/**
 * The batch handler of one service instance, with its cache of host states: what the Kafka
 * runner calls per fetched batch (tests call it directly to play two instances in turn).
 */
export function createBatchHandler(options: HandlerOptions): BatchHandler {
  const { pool, log, rules, metrics, producer } = options;
  const outputTopic = options.outputTopic ?? topics.tasks;
  const graceNs = options.graceNs ?? DEFAULT_GRACE_NS;
  const readFact = options.readFact ?? readFileFact;
  /** Host states as this instance last saved them, by tenant/host, and when each was last used. */
  const cache = new Map<string, HostState>();
  const lastUsed = new Map<string, number>();
  /** Hosts that went quiet or moved to another instance stop holding memory here. */
  const evictIdle = (now: number) => {
    for (const [key, at] of lastUsed) {
      if (now - at < CACHE_IDLE_MS) continue;
      cache.delete(key);
      lastUsed.delete(key);
    }
  };

  /** Applies one host's fresh events to its state: every change, in order, and how many were fresh. */
  const applyEvents = (state: HostState, group: HostGroup) => {
    const changes: AttributionChange[] = [];
    let applied = 0;
    const local = group.host === options.localHost;
    for (const chunk of group.chunks) {
      const fresh = takeFresh(state.watermarks, chunk);
      metrics?.events.inc({ outcome: 'duplicate' }, chunk.length - fresh.length);
      if (fresh.length === 0) continue;
      metrics?.events.inc({ outcome: 'applied' }, fresh.length);
      applied += fresh.length;
      let r = attribute(state.attribution, fresh);
      changes.push(...r.changes);
      if (!local) {
        metrics?.facts.inc({ outcome: 'remote' }, r.wants.length);
        continue;
      }
      for (let round = 0; round < FACT_ROUNDS && r.wants.length > 0; round++) {
        const facts = r.wants.map(readFact);
        for (const f of facts) metrics?.facts.inc({ outcome: f.text === null ? 'missing' : 'read' });
        r = attribute(state.attribution, facts);
        changes.push(...r.changes);
      }
    }
    if (applied > 0) {
      const forgot = forgetFinished(state.attribution, graceNs);
      metrics?.forgotten.inc({ kind: 'run' }, forgot.runs);
      metrics?.forgotten.inc({ kind: 'process' }, forgot.procs);
    }
    return { changes, applied };
  };

  const publish = async (group: HostGroup, changes: AttributionChange[]) => {
    const key = hostKey(group.tenant, group.host);
    const headers = group.team !== undefined ? { [TEAM_HEADER]: group.team } : undefined;
    let send: { key: string; value: string; headers?: Record<string, string> }[] = [];
    let bytes = 0;
    for (const change of changes) {
      const value = JSON.stringify(change);
      if (send.length > 0 && bytes + value.length > MAX_SEND_BYTES) {
        await producer.send(outputTopic, send);
        send = [];
        bytes = 0;
      }
      send.push(headers ? { key, value, headers } : { key, value });
      bytes += value.length;
      metrics?.changes.inc({ entity: change.entity });
    }
    if (send.length > 0) await producer.send(outputTopic, send);
  };

  /** The host's state as stored now: the cached copy when no one else saved since. */
  const hostState = async (client: PoolClient, group: HostGroup): Promise<HostState> => {
    const key = hostKey(group.tenant, group.host);
    evictIdle(Date.now());
    lastUsed.set(key, Date.now());
    const version = await consumerStateVersion(client, SERVICE, group.host);
    const cached = cache.get(key);
    if (cached && cached.version === version) return cached;
    const stored = version > 0 ? await loadConsumerState(client, SERVICE, group.host) : undefined;
    const decoded = stored && decodeHostState(stored.version, stored.state, rules);
    if (stored && !decoded)
      log.warn({ tenant: group.tenant, host: group.host }, 'host state of another format; starting afresh');
    // A fresh state saves as the stored version + 1 all the same, so the row's version keeps moving.
    const state = decoded ?? { ...newHostState(group.tenant, group.host, rules), version };
    if (cached) log.info({ tenant: group.tenant, host: group.host, version }, 'host state changed elsewhere; reloaded');
    cache.set(key, state);
    return state;
  };

  const handleGroup = async (group: HostGroup) => {
    const key = hostKey(group.tenant, group.host);
    try {
      await withTenant(
        pool,
        group.tenant,
        async (client) => {
          const state = await hostState(client, group);
          const { changes, applied } = applyEvents(state, group);
          // All seen before (a redelivery): nothing to write, publish or save.
          if (applied === 0) return;
          if (changes.length > 0) {
            const written = await writeRows(client, planRows(changes));
            for (const [table, n] of Object.entries(written)) metrics?.rows.inc({ table }, n);
            await publish(group, changes);
          }
          // Saved even without changes: the watermarks moved.
          const bytes = encodeHostState(state);
          metrics?.stateBytes.set(bytes.length);
          await saveConsumerState(client, SERVICE, group.host, state.version + 1, bytes);
          state.version++;
        },
        options.role === undefined ? {} : { role: options.role },
      );
    } catch (err) {
      // The cached copy may hold changes that did not commit: the stored snapshot is the truth.
      cache.delete(key);
      if (isPermanentDatabaseError(err)) throw new PermanentError(`database refused: ${(err as Error).message}`);
      throw err;
    }
  };

  const handler = async (messages: ConsumedMessage[]) => {
    const started = performance.now();
    const { groups, rejects } = groupByHost(messages);
    for (const group of groups) await handleGroup(group);
    metrics?.events.inc({ outcome: 'invalid' }, rejects.length);
    metrics?.batchSeconds.observe((performance.now() - started) / 1000);
    return { rejects };
  };
  return handler;
}

export async function startAttributionConsumer(options: AttributionConsumerOptions): Promise<AttributionConsumer> {
  const { bus, log } = options;
  const inputTopic = options.inputTopic ?? topics.normalized;
  const outputTopic = options.outputTopic ?? topics.tasks;
  const producer = await bus.producer();
  const runner = await bus.consume({
    groupId: options.groupId,
    topics: [inputTopic],
    handler: createBatchHandler({ ...options, producer }),
    fromBeginning: true,
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  log.info(
    { inputTopic, outputTopic, groupId: options.groupId, localHost: options.localHost },
    'attribution consumer started',
  );
  return {
    runner,
    async stop() {
      await runner.stop();
      await producer.close();
    },
  };
}
