// The insights consumer: telemetry.normalized.v1 and tasks.v1 in, the `insights` table and
// insights.v1 out. Per fetched batch, messages are decoded (unusable ones are rejects, dead-
// lettered with their reason) and grouped by (tenant, host); per host, in ONE withTenant
// transaction: the state snapshot is (re)loaded when this instance's copy is missing or
// stale, replays are skipped by the watermarks the state keeps (agent seq, tasks.v1 offset),
// the engine steps, changed insights are upserted and published before COMMIT, and the
// snapshot is saved with version + 1. The bus commits offsets only after the handler
// returned, so a crash anywhere replays into no-ops.
//
// A clock ticks every `tickMs`: each host that sent data recently is stepped with no events
// at `now` = its newest event time + the wall time since that arrived (capped at
// `clockAheadMs`), so stalls and long-running steps are reported while nothing arrives.
import type { Bus, ConsumedMessage, ConsumerRunner, ConsumerTuning, Producer, Reject } from '@tracer/bus';
import { PermanentError } from '@tracer/bus';
import {
  consumerStateVersion,
  deserializeState,
  loadConsumerState,
  type Pool,
  type PoolClient,
  saveConsumerState,
  serializeState,
  withTenant,
} from '@tracer/db';
import { hostKey, type Insight, type InsightMessage } from '@tracer/events';
import type { Logger } from '@tracer/log';
import { readStepHistory, upsertInsights } from '../adapters/insights-store.ts';
import { explainInsight } from '../core/analyze-trace.ts';
import type { InsightsConfig } from '../core/config.ts';
import {
  activePipelines,
  createHostStream,
  type HostInput,
  type HostStreamState,
  stepHost,
  tickHost,
} from '../core/host-stream.ts';
import type { InsightsOptions } from '../core/types.ts';
import { decodeChanges, decodeTelemetry, type HostGroup } from './decode.ts';
import type { ExplanationQueue } from './explanations.ts';
import type { InsightsMetrics } from './metrics.ts';

/** The consumer_state service name of this consumer's snapshots. */
export const SERVICE = 'insights';

export interface InsightsConsumerOptions {
  bus: Bus;
  pool: Pool;
  log: Logger;
  groupId: string;
  telemetryTopic: string;
  tasksTopic: string;
  insightsTopic: string;
  role?: string | null;
  detectors?: InsightsConfig | undefined;
  tickMs: number;
  clockAheadMs: number;
  forgetAfterMs: number;
  historyTtlMs: number;
  tuning?: ConsumerTuning;
  metrics?: InsightsMetrics;
  explanations?: ExplanationQueue;
}

export interface InsightsConsumer {
  runner: ConsumerRunner;
  /** One clock tick over every recent host now (tests; the timer calls it too). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

interface HostEntry {
  tenant: string;
  host: string;
  /** The snapshot version this copy corresponds to. */
  version: number;
  state: HostStreamState;
  /** Wall time (ms) the newest telemetry of this host was handled. */
  arrivedAt: number;
}

interface HistoryEntry {
  loadedAt: number;
  durations: Record<string, number[]>;
}

/** A host silent this long leaves memory (its snapshot stays in the database). */
const EVICT_AFTER_MS = 15 * 60_000;

/** SQLSTATE classes that mean "this input can never be written": data and constraint errors. */
const isPermanentDatabaseError = (err: unknown) => /^2[23]/.test(String((err as { code?: unknown }).code ?? ''));

export async function startInsightsConsumer(options: InsightsConsumerOptions): Promise<InsightsConsumer> {
  const { bus, pool, log, metrics } = options;
  const role = options.role === undefined ? 'tracer_app' : options.role;
  const producer: Producer = await bus.producer();
  const hosts = new Map<string, HostEntry>();
  const histories = new Map<string, HistoryEntry>();
  /** One chain per host: a batch and a tick of the same host never interleave. */
  const locks = new Map<string, Promise<unknown>>();
  const baseOptions: InsightsOptions = {
    ...(options.detectors ? { config: options.detectors } : {}),
    stallClockNs: options.clockAheadMs * 1e6,
    forgetAfterNs: options.forgetAfterMs * 1e6,
  };

  const serially = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const prev = locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const settled = next.catch(() => undefined);
    locks.set(key, settled);
    settled.then(() => {
      if (locks.get(key) === settled) locks.delete(key);
    });
    return next;
  };

  /** Step history of the host's pipelines: cached per tenant and pipeline for historyTtlMs. */
  const historyFor = async (
    client: PoolClient | undefined,
    tenant: string,
    state: HostStreamState,
    incoming?: HostInput['changes'],
  ) => {
    const pipelines = [...activePipelines(state, incoming).keys()];
    const stale = pipelines.filter((p) => {
      const h = histories.get(`${tenant}\u0000${p}`);
      return !h || Date.now() - h.loadedAt > options.historyTtlMs;
    });
    if (client && stale.length) {
      const loaded = await readStepHistory(client, stale);
      for (const [p, durations] of loaded) histories.set(`${tenant}\u0000${p}`, { loadedAt: Date.now(), durations });
    }
    const out: Record<string, number[]> = {};
    for (const p of pipelines) Object.assign(out, histories.get(`${tenant}\u0000${p}`)?.durations);
    return out;
  };

  /** This host's state as stored now: the cached copy when no one else saved since. */
  const entryFor = async (client: PoolClient, tenant: string, host: string): Promise<HostEntry> => {
    const key = hostKey(tenant, host);
    // Locks the host until COMMIT (even before its first snapshot): instances take turns.
    const version = await consumerStateVersion(client, SERVICE, host);
    const cached = hosts.get(key);
    if (cached && cached.version === version) return cached;
    const stored = version > 0 ? await loadConsumerState(client, SERVICE, host) : undefined;
    return {
      tenant,
      host,
      version,
      state: stored ? (deserializeState(stored.state) as HostStreamState) : createHostStream(),
      arrivedAt: cached?.arrivedAt ?? 0,
    };
  };

  const publish = async (tenant: string, host: string, insights: readonly Insight[], source: string) => {
    const key = hostKey(tenant, host);
    const messages = insights.map((insight) => {
      metrics?.published.inc({ kind: insight.kind, source });
      const message: InsightMessage = { tenant, host, ...insight };
      return { key, value: JSON.stringify(message) };
    });
    await producer.send(options.insightsTopic, messages);
  };

  /** Writes insights and the new snapshot in the open transaction; returns the new version. */
  const persist = async (client: PoolClient, entry: HostEntry, insights: readonly Insight[], source: string) => {
    if (insights.length) {
      await upsertInsights(client, entry.host, insights);
      await publish(entry.tenant, entry.host, insights, source);
    }
    const bytes = serializeState(entry.state);
    metrics?.stateBytes.observe(bytes.length);
    await saveConsumerState(client, SERVICE, entry.host, entry.version + 1, bytes);
    return entry.version + 1;
  };

  /** Failure insights with evidence go to the LLM after the commit (never before it). */
  const offerExplanations = (entry: HostEntry, insights: readonly Insight[]) => {
    if (!options.explanations) return;
    for (const insight of insights) {
      if (!insight.category || insight.state !== 'open') continue;
      const explained = explainInsight(entry.state.engine, insight);
      if (explained) options.explanations.offer({ tenant: entry.tenant, host: entry.host, insight, ...explained });
    }
  };

  const handleHost = (group: HostGroup, input: HostInput) => {
    const key = hostKey(group.tenant, group.host);
    return serially(key, async () => {
      let entry: HostEntry | undefined;
      try {
        const result = await withTenant(
          pool,
          group.tenant,
          async (client) => {
            entry = await entryFor(client, group.tenant, group.host);
            const history = await historyFor(client, group.tenant, entry.state, input.changes);
            const r = stepHost(entry.state, input, { ...baseOptions, history });
            metrics?.events.inc({ outcome: 'applied' }, r.applied);
            metrics?.events.inc({ outcome: 'duplicate' }, r.duplicates);
            metrics?.changes.inc({ outcome: 'applied' }, r.changesApplied);
            metrics?.changes.inc({ outcome: 'duplicate' }, (input.changes?.length ?? 0) - r.changesApplied);
            // Nothing fresh: the stored snapshot already says all of it.
            if (r.applied === 0 && r.changesApplied === 0) return { version: entry.version, insights: r.insights };
            return { version: await persist(client, entry, r.insights, 'batch'), insights: r.insights };
          },
          { role },
        );
        entry!.version = result.version;
        if (input.events?.length) entry!.arrivedAt = Date.now();
        hosts.set(key, entry!);
        metrics?.hosts.set(hosts.size);
        offerExplanations(entry!, result.insights);
      } catch (err) {
        // The copy may hold changes that never committed: the snapshot is the truth.
        hosts.delete(key);
        if (isPermanentDatabaseError(err)) throw new PermanentError(`database refused: ${(err as Error).message}`);
        throw err;
      }
    });
  };

  const handler = async (messages: ConsumedMessage[]) => {
    const started = performance.now();
    const topic = messages[0]?.topic;
    const decoded = topic === options.tasksTopic ? decodeChanges(messages) : decodeTelemetry(messages);
    const counter = topic === options.tasksTopic ? metrics?.changes : metrics?.events;
    counter?.inc({ outcome: 'invalid' }, decoded.rejects.length);
    for (const group of decoded.groups.values())
      await handleHost(group, { events: group.events, changes: group.changes });
    metrics?.batchSeconds.observe((performance.now() - started) / 1000);
    const rejects: Reject[] = decoded.rejects;
    return { rejects };
  };

  /**
   * The clock step of one host: pure in memory, and a transaction only when an insight
   * changed. When another instance saved the host since (its tasks.v1 half is handled
   * elsewhere, or a rebalance), the tick is redone on the stored snapshot.
   */
  const tickOne = (key: string) =>
    serially(key, async () => {
      const entry = hosts.get(key);
      if (!entry) return;
      const silentMs = Date.now() - entry.arrivedAt;
      if (silentMs > options.clockAheadMs + options.tickMs) {
        // Quiet for long: its snapshot is stored, the next message reloads it.
        if (silentMs > EVICT_AFTER_MS) hosts.delete(key);
        return;
      }
      const now = entry.state.engine.lastTs + Math.min(silentMs, options.clockAheadMs) * 1e6;
      const tickOptions = { ...baseOptions, history: await historyFor(undefined, entry.tenant, entry.state) };
      const insights = tickHost(entry.state, now, tickOptions);
      if (insights.length === 0) {
        metrics?.ticks.inc({ outcome: 'quiet' });
        return;
      }
      try {
        const outcome = await withTenant(
          pool,
          entry.tenant,
          async (client) => {
            const current = await entryFor(client, entry.tenant, entry.host);
            const changed = current === entry ? insights : tickHost(current.state, now, tickOptions);
            if (changed.length) current.version = await persist(client, current, changed, 'tick');
            return { current, changed };
          },
          { role },
        );
        metrics?.ticks.inc({ outcome: outcome.current === entry ? 'written' : 'reloaded' });
        hosts.set(key, outcome.current);
        offerExplanations(outcome.current, outcome.changed);
      } catch (err) {
        hosts.delete(key);
        log.warn(
          { err, tenant: entry.tenant, host: entry.host },
          'clock tick not saved; the host reloads its snapshot',
        );
      }
    });

  const tick = async () => {
    for (const key of [...hosts.keys()]) await tickOne(key);
    for (const [key, h] of histories) if (Date.now() - h.loadedAt > EVICT_AFTER_MS) histories.delete(key);
    metrics?.hosts.set(hosts.size);
  };

  const runner = await bus.consume({
    groupId: options.groupId,
    topics: [options.telemetryTopic, options.tasksTopic],
    handler,
    fromBeginning: true,
    ...(options.tuning ? { tuning: options.tuning } : {}),
  });
  let ticking: Promise<void> | undefined;
  const timer = setInterval(() => {
    ticking ??= tick()
      .catch((err: Error) => log.error({ err }, 'clock tick failed'))
      .finally(() => {
        ticking = undefined;
      });
  }, options.tickMs);
  timer.unref();
  log.info(
    { telemetryTopic: options.telemetryTopic, tasksTopic: options.tasksTopic, groupId: options.groupId },
    'insights consumer started',
  );
  return {
    runner,
    tick,
    async stop() {
      clearInterval(timer);
      await ticking;
      await runner.stop();
      await options.explanations?.stop();
      await producer.close();
    },
  };
}
