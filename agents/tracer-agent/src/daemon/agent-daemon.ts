// `tracer agent start`: the host agent as a daemon. The capture source (eBPF, or the /proc
// fallback with its reason) feeds the agent core (filters, redaction, envelope with a per-agent
// seq, validation); events are cut into batches and appended to the on-disk spool; the shipper
// sends the spool to the sink in order. Host info at start and hourly, process and host
// samples every interval, agent.stats (sent, dropped, evicted, spooled) every stats interval.
//
// Stop order (SIGTERM): samplers, then the source (drained), then the last batch into the
// spool, then the shipper (a few seconds to empty the spool), then the spool and the sink.
import { randomUUID } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeBatch, type TelemetryEvent } from '@tracer/events';
import type { Logger } from '@tracer/log';
import { nowNs } from '../adapters/clock.ts';
import { createHostSampler, readHostInfo } from '../adapters/host.ts';
import { startProcessSampler } from '../adapters/process-sampler.ts';
import { readBootId } from '../adapters/procfs.ts';
import { selectSource } from '../adapters/select-source.ts';
import { createRecordPreparer } from '../core/prepare.ts';
import type { SourceRecord, TelemetrySource } from '../core/source.ts';
import { bootIdPrefix } from '../core/upid.ts';
import type { AgentConfig } from './config.ts';
import { Shipper } from './shipper.ts';
import { createGatewaySink } from './sinks/gateway-sink.ts';
import { createKafkaSink } from './sinks/kafka-sink.ts';
import type { Sink } from './sinks/sink.ts';
import { Spool } from './spool.ts';

const HOST_INFO_INTERVAL_MS = 3600_000;
const SPOOL_SYNC_INTERVAL_MS = 1000;
const STATUS_INTERVAL_MS = 2000;
const STOP_DRAIN_MS = 5000;

/** What `tracer agent status` and `tracer status` read (status.json in the spool folder). */
export interface AgentStatus {
  pid: number;
  state: 'running' | 'stopped';
  agentId: string;
  tenant: string;
  host: string;
  mode: 'bpf' | 'proc';
  fallbackReason?: string;
  sink: string;
  sinkState: 'idle' | 'ok' | 'retrying';
  sinkError?: string;
  sentEvents: number;
  pendingEvents: number;
  spoolBytes: number;
  evictedEvents: number;
  rejectedEvents: number;
  droppedKernel: number;
  droppedUser: number;
  startedAt: string;
  updatedAt: string;
}

export const statusFile = (spoolDir: string) => join(spoolDir, 'status.json');

export interface RunningAgent {
  agentId: string;
  mode: 'bpf' | 'proc';
  fallbackReason?: string;
  status(): AgentStatus;
  /** Cuts the current batch now (tests, and before stopping). */
  flush(): void;
  stop(): Promise<void>;
}

/**
 * The processes alive now, pid -> upid, for the periodic samples. The agent core's
 * ProcessTable keeps every process of a trace for its summary; a daemon that runs for months
 * keeps only the live ones.
 */
class LiveProcesses {
  readonly byPid = new Map<number, string>();
  apply(e: TelemetryEvent): void {
    if (e.type === 'process.fork' || e.type === 'process.exec') this.byPid.set(e.pid, e.upid);
    else if (e.type === 'process.exit' && this.byPid.get(e.pid) === e.upid) this.byPid.delete(e.pid);
  }
}

export async function startAgentDaemon(
  config: AgentConfig,
  log: Logger,
  options: { env?: NodeJS.ProcessEnv; sink?: Sink } = {},
): Promise<RunningAgent> {
  const env = options.env ?? process.env;
  const spool = Spool.open({ dir: config.spoolDir, maxBytes: config.spoolMaxBytes });
  const agentId = spool.agentId(() => `${config.host.slice(0, 64)}-${randomUUID().slice(0, 8)}`);
  const sink =
    options.sink ??
    (config.sink === 'gateway'
      ? createGatewaySink({ url: config.gatewayUrl, apiKey: config.apiKey })
      : createKafkaSink({
          brokers: config.kafkaBrokers,
          tenant: config.tenant,
          host: config.host,
          topic: config.kafkaTopic,
          log,
        }));
  const shipper = new Shipper({ spool, sink, log });
  const preparer = createRecordPreparer({
    envelope: { tenant: config.tenant, host: config.host, agentId },
    startSeq: spool.nextSeq(),
  });
  const live = new LiveProcesses();
  const startedAt = new Date().toISOString();
  let rejectedByCore = 0;
  let pending: TelemetryEvent[] = [];
  let pendingBytes = 0;
  let stopped = false;

  const flush = () => {
    if (pending.length === 0) return;
    const events = pending;
    pending = [];
    pendingBytes = 0;
    try {
      spool.append(encodeBatch(events), events.length, events[0]!.seq, events[events.length - 1]!.seq);
    } catch (err) {
      // A disk that refuses the write (full, read-only): these events are lost, and counted.
      rejectedByCore += events.length;
      log.error({ err: (err as Error).message, events: events.length }, 'spooling a batch failed; its events are lost');
      return;
    }
    shipper.notify();
  };

  const write = (records: SourceRecord[]) => {
    if (stopped || records.length === 0) return;
    const { events, rejects } = preparer.prepare(records);
    if (rejects.length > 0) {
      rejectedByCore += rejects.length;
      log.warn({ count: rejects.length, first: rejects[0] }, 'invalid records dropped (counted in agent.stats)');
    }
    for (const e of events) {
      live.apply(e);
      const size = Buffer.byteLength(JSON.stringify(e)) + 1;
      if (pending.length > 0 && (pending.length >= config.batchMaxEvents || pendingBytes + size > config.batchMaxBytes))
        flush();
      pending.push(e);
      pendingBytes += size;
    }
  };

  const bootPrefix = bootIdPrefix(readBootId());
  const { source, fallbackReason } = await selectSource({ bootId: bootPrefix }, write, env);
  const hostSampler = createHostSampler();
  write([{ type: 'host.info', ts: nowNs(), ...readHostInfo({ env }) }]);
  const sampler = startProcessSampler({
    intervalMs: config.sampleIntervalMs,
    live: () => live.byPid.entries(),
    source,
    extra: () => [{ type: 'host.sample', ts: nowNs(), ...hostSampler.sample() }],
    onBatch: write,
  });

  const sourceStats = () => source.stats();
  const statsRecord = (): SourceRecord => {
    const s = spool.stats();
    const src = sourceStats();
    return {
      type: 'agent.stats',
      ts: nowNs(),
      mode: source.mode,
      eventsSent: s.sentEvents,
      droppedKernel: src.droppedKernel,
      droppedUser: src.droppedUser + rejectedByCore + s.evictedEvents + s.rejectedEvents,
      spooled: s.pendingEvents,
    };
  };

  const status = (): AgentStatus => {
    const s = spool.stats();
    const src = sourceStats();
    return {
      pid: process.pid,
      state: stopped ? 'stopped' : 'running',
      agentId,
      tenant: config.tenant,
      host: config.host,
      mode: source.mode,
      ...(fallbackReason !== undefined ? { fallbackReason } : {}),
      sink: sink.name,
      sinkState: shipper.status.state,
      ...(shipper.status.lastError !== undefined ? { sinkError: shipper.status.lastError } : {}),
      sentEvents: s.sentEvents,
      pendingEvents: s.pendingEvents,
      spoolBytes: s.bytes,
      evictedEvents: s.evictedEvents,
      rejectedEvents: s.rejectedEvents,
      droppedKernel: src.droppedKernel,
      droppedUser: src.droppedUser + rejectedByCore + s.evictedEvents + s.rejectedEvents,
      startedAt,
      updatedAt: new Date().toISOString(),
    };
  };
  const writeStatus = () => {
    const path = statusFile(config.spoolDir);
    writeFileSync(`${path}.tmp`, `${JSON.stringify(status(), null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  };

  const timers = [
    setInterval(flush, config.flushIntervalMs),
    setInterval(() => spool.sync(), SPOOL_SYNC_INTERVAL_MS),
    setInterval(() => write([statsRecord()]), config.statsIntervalMs),
    setInterval(() => write([{ type: 'host.info', ts: nowNs(), ...readHostInfo({ env }) }]), HOST_INFO_INTERVAL_MS),
    setInterval(writeStatus, STATUS_INTERVAL_MS),
  ];
  shipper.start();
  writeStatus();
  log.info(
    {
      agentId,
      mode: source.mode,
      fallbackReason,
      sink: sink.name,
      spool: config.spoolDir,
      nextSeq: preparer.nextSeq(),
    },
    'agent started',
  );

  let stopping: Promise<void> | undefined;
  return {
    agentId,
    mode: source.mode,
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
    status,
    flush,
    stop() {
      stopping ??= (async () => {
        sampler.stop();
        for (const t of timers) clearInterval(t);
        await stopSource(source);
        write([statsRecord()]);
        stopped = true;
        flush();
        // What is still spooled after the grace stays on disk and goes first at the next start.
        await shipper.drain(STOP_DRAIN_MS);
        await shipper.stop();
        spool.close();
        await sink.close();
        writeStatus();
        log.info({ agentId, ...spool.stats() }, 'agent stopped');
      })();
      return stopping;
    },
  };
}

async function stopSource(source: TelemetrySource): Promise<void> {
  try {
    await source.stop();
  } catch {
    // a source that fails to detach cleanly still lets the spool close
  }
}
