// The port between kernel capture and the agent core. Two adapters implement it: the eBPF
// source (adapters/bpf-source.ts) and the /proc fallback (adapters/proc-source.ts). Both yield
// the same records: an event's own fields plus `type` and `ts`; the core adds the envelope
// (tenant, host, agentId, seq), redacts and filters.
import type { Envelope, EventType, PayloadOf } from '@tracer/events';

export type SourceRecord = {
  [K in EventType]: PayloadOf<K> & { type: K; ts: Envelope['ts'] };
}[EventType];

export type SourceMode = 'bpf' | 'proc';

export interface SourceOptions {
  /** Capture only descendants of this pid (the pid itself excluded); whole host when absent. */
  descendantsOf?: number;
  /** Boot id prefix used in every upid (first 8 hex digits of /proc/sys/kernel/random/boot_id). */
  bootId: string;
}

export interface SourceStats {
  /** Records the kernel could not reserve ring-buffer space for. */
  droppedKernel: number;
  /** Records user space turned away (bounded queues). */
  droppedUser: number;
}

/** Kernel-side counters that /proc lacks, for the periodic per-process samples. */
export interface ProcessCounters {
  ioWaitNs?: number;
  netSendBytes?: number;
  netRecvBytes?: number;
}

export interface TelemetrySource {
  readonly mode: SourceMode;
  /** Starts capture; batches arrive in kernel order, each record at most once. */
  start(onBatch: (batch: SourceRecord[]) => void): Promise<void>;
  /** Drains what the kernel still holds, then detaches (`releaseInBackground`: see BpfSource). */
  stop(options?: { releaseInBackground?: boolean }): Promise<void>;
  stats(): SourceStats;
  counters?(pid: number): ProcessCounters | undefined;
}
