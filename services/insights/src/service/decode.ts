// Kafka records in, typed inputs out, grouped by (tenant, host): telemetry.normalized.v1
// records are agent batches (decodeBatch), tasks.v1 records one AttributionChange as JSON.
// Whatever cannot be used becomes a reject with its reason (dead-lettered by the bus).

import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { ConsumedMessage, Reject } from '@tracer/bus';
import { AttributionChange, decodeRecord, type TelemetryEvent, validateEvent } from '@tracer/events';
import type { PositionedChange } from '../core/host-stream.ts';

export interface HostGroup {
  tenant: string;
  host: string;
  events: TelemetryEvent[];
  changes: PositionedChange[];
}

export interface Decoded {
  groups: Map<string, HostGroup>;
  rejects: Reject[];
}

const checkChange = TypeCompiler.Compile(AttributionChange);

function groupOf(groups: Map<string, HostGroup>, tenant: string, host: string): HostGroup {
  const key = `${tenant}/${host}`;
  let g = groups.get(key);
  if (!g) {
    g = { tenant, host, events: [], changes: [] };
    groups.set(key, g);
  }
  return g;
}

export function decodeTelemetry(messages: readonly ConsumedMessage[]): Decoded {
  const groups = new Map<string, HostGroup>();
  const rejects: Reject[] = [];
  for (const m of messages) {
    const record = decodeRecord(m.value);
    if ('reason' in record) {
      rejects.push({ message: m, reason: record.reason });
      continue;
    }
    record.items.forEach((item, i) => {
      const checked = 'error' in item ? { ok: false as const, reason: item.error } : validateEvent(item.value);
      if (checked.ok) groupOf(groups, checked.event.tenant, checked.event.host).events.push(checked.event);
      else {
        const value = Buffer.from('error' in item ? item.line : JSON.stringify(item.value));
        rejects.push({ message: m, reason: `event ${i}: ${checked.reason}`, value });
      }
    });
  }
  return { groups, rejects };
}

export function decodeChanges(messages: readonly ConsumedMessage[]): Decoded {
  const groups = new Map<string, HostGroup>();
  const rejects: Reject[] = [];
  for (const m of messages) {
    let value: unknown;
    try {
      value = JSON.parse(m.value?.toString() ?? '');
    } catch (err) {
      rejects.push({ message: m, reason: `not JSON: ${(err as Error).message}` });
      continue;
    }
    if (!checkChange.Check(value)) {
      const why = [...checkChange.Errors(value)].slice(0, 3).map((e) => `${e.path || '/'}: ${e.message}`);
      rejects.push({ message: m, reason: `not a tasks.v1 change: ${why.join('; ')}` });
      continue;
    }
    const change = value as AttributionChange;
    groupOf(groups, change.record.tenant, change.record.host).changes.push({
      partition: m.partition,
      offset: m.offset,
      change,
    });
  }
  return { groups, rejects };
}
