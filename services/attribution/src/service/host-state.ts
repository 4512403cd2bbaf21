// One host's place in the stream, as the service keeps it between batches and in its snapshot
// (consumer_state): the attribution core's state plus, per agent, the highest sequence number
// applied. Events at or below it were applied before (a redelivered Kafka record, a batch ingest
// published twice) and are skipped, so a replay after a crash changes nothing.
import { deserializeState, serializeState } from '@tracer/db';
import type { TelemetryEvent } from '@tracer/events';
import {
  type AttributionSnapshot,
  type AttributionState,
  createAttribution,
  restoreAttribution,
  snapshotOf,
  type ToolRules,
} from '../core/index.ts';

export interface HostState {
  /** The consumer_state version this copy was loaded as or saved with. */
  version: number;
  attribution: AttributionState;
  watermarks: Map<string, number>;
}

/**
 * Raised when the working structures of the core change shape: a snapshot of another format
 * is not read (the host starts afresh; rows already written stay).
 */
export const HOST_STATE_FORMAT = 1;

interface StoredHostState {
  format: number;
  attribution: AttributionSnapshot;
  watermarks: Map<string, number>;
}

export function newHostState(tenant: string, host: string, rules: ToolRules): HostState {
  return { version: 0, attribution: createAttribution({ rules, tenant, host }), watermarks: new Map() };
}

export function encodeHostState(state: HostState): Buffer {
  const stored: StoredHostState = {
    format: HOST_STATE_FORMAT,
    attribution: snapshotOf(state.attribution),
    watermarks: state.watermarks,
  };
  return serializeState(stored);
}

/** The stored state, or undefined when it was written in another format. */
export function decodeHostState(version: number, bytes: Buffer, rules: ToolRules): HostState | undefined {
  const stored = deserializeState(bytes) as StoredHostState;
  if (stored?.format !== HOST_STATE_FORMAT) return undefined;
  return { version, attribution: restoreAttribution(stored.attribution, rules), watermarks: stored.watermarks };
}

/** The events not applied yet, in order; moves the watermarks past them. */
export function takeFresh(watermarks: Map<string, number>, events: readonly TelemetryEvent[]): TelemetryEvent[] {
  const fresh: TelemetryEvent[] = [];
  for (const e of events) {
    if (e.seq <= (watermarks.get(e.agentId) ?? -1)) continue;
    watermarks.set(e.agentId, e.seq);
    fresh.push(e);
  }
  return fresh;
}
