// What the gateway decides about one agent batch, with no I/O: every event is checked, the
// tenant comes from the API key whatever the payload says, and either the whole batch is
// accepted (as Kafka records keyed tenant/host) or nothing is, with each bad event named.
import { encodeBatch, hostKey, type TelemetryEvent, validateEvent } from '@tracer/events';
import type { KeyIdentity } from './api-key.ts';

/** One decoded line: a value, or why the line could not be read. */
export type BatchItem = { value: unknown } | { error: string; line?: string };

export interface BadEvent {
  index: number;
  reason: string;
}

/** Records a key'd Kafka producer sends; `value` is an agent batch (encodeBatch). */
export interface RawRecord {
  key: string;
  value: Buffer;
  events: number;
}

export type CheckedBatch =
  | {
      ok: true;
      events: TelemetryEvent[];
      /** Events whose payload named another tenant (or none) and were stamped with the key's. */
      tenantRewrites: number;
    }
  | { ok: false; errors: BadEvent[]; badCount: number };

/** A problem body names at most this many events; `badCount` says how many there were. */
export const MAX_REPORTED_ERRORS = 100;

export function checkIngestBatch(items: readonly BatchItem[], identity: Pick<KeyIdentity, 'tenant'>): CheckedBatch {
  const events: TelemetryEvent[] = [];
  const errors: BadEvent[] = [];
  let badCount = 0;
  let tenantRewrites = 0;
  for (let index = 0; index < items.length; index++) {
    const item = items[index]!;
    let reason: string | undefined;
    if ('error' in item) {
      reason = item.error;
    } else if (typeof item.value !== 'object' || item.value === null || Array.isArray(item.value)) {
      reason = 'event is not a JSON object';
    } else {
      const value = item.value as Record<string, unknown>;
      // The key decides the tenant; the payload's claim is overwritten, never trusted.
      if (value.tenant !== identity.tenant) {
        tenantRewrites++;
        value.tenant = identity.tenant;
      }
      const checked = validateEvent(value);
      if (checked.ok) events.push(checked.event);
      else reason = checked.reason;
    }
    if (reason !== undefined) {
      badCount++;
      if (errors.length < MAX_REPORTED_ERRORS) errors.push({ index, reason });
    }
  }
  if (badCount > 0) return { ok: false, errors, badCount };
  return { ok: true, events, tenantRewrites };
}

/**
 * Kafka records for accepted events: one host's events stay in order under one key. Chunks
 * are cut by uncompressed size so each record stays under the broker's message limit.
 */
export function planRecords(events: readonly TelemetryEvent[], maxUncompressedBytes: number): RawRecord[] {
  const byKey = new Map<string, TelemetryEvent[]>();
  for (const e of events) {
    const key = hostKey(e.tenant, e.host);
    let list = byKey.get(key);
    if (!list) {
      list = [];
      byKey.set(key, list);
    }
    list.push(e);
  }
  const records: RawRecord[] = [];
  for (const [key, list] of byKey) {
    let chunk: TelemetryEvent[] = [];
    let bytes = 0;
    const flush = () => {
      if (chunk.length === 0) return;
      records.push({ key, value: encodeBatch(chunk), events: chunk.length });
      chunk = [];
      bytes = 0;
    };
    for (const e of list) {
      const size = Buffer.byteLength(JSON.stringify(e)) + 1;
      if (bytes + size > maxUncompressedBytes) flush();
      chunk.push(e);
      bytes += size;
    }
    flush();
  }
  return records;
}

/**
 * The original body can go to Kafka as is when nothing in it changed: every event already
 * named the key's tenant, all from one host, and it fits in one record.
 */
export function forwardableAsIs(
  checked: Extract<CheckedBatch, { ok: true }>,
  bodyBytes: number,
  maxRecordBytes: number,
): boolean {
  if (checked.tenantRewrites > 0 || bodyBytes > maxRecordBytes || checked.events.length === 0) return false;
  const first = checked.events[0]!;
  return checked.events.every((e) => e.host === first.host);
}
