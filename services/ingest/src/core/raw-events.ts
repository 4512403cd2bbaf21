// The raw consumer's first two steps, with no I/O: decode Kafka records into valid events
// (each invalid one becomes a reject with its reason and its own bytes), then drop what an
// agent sent before (the per-agent sequence watermark) and say what each agent's row becomes.
import { BatchDecodeError, decodeBatch, type TelemetryEvent, validateEvent } from '@tracer/events';

export interface RawInput<R> {
  /** The caller's handle on the record (the Kafka message), handed back with rejects. */
  ref: R;
  value: Buffer | null;
  /** The team of the API key the gateway authenticated, when it came through one. */
  team?: string | undefined;
}

export interface AcceptedEvent {
  event: TelemetryEvent;
  team?: string | undefined;
}

export interface RawReject<R> {
  ref: R;
  reason: string;
  /** The one bad line, when the rest of the record was fine. */
  value?: Buffer;
}

export interface DecodedRaw<R> {
  /** Valid events by tenant, each tenant's in record order. */
  byTenant: Map<string, AcceptedEvent[]>;
  rejects: RawReject<R>[];
  valid: number;
}

export function decodeRawRecords<R>(records: readonly RawInput<R>[]): DecodedRaw<R> {
  const byTenant = new Map<string, AcceptedEvent[]>();
  const rejects: RawReject<R>[] = [];
  let valid = 0;
  for (const record of records) {
    if (record.value === null || record.value.length === 0) {
      rejects.push({ ref: record.ref, reason: 'empty record' });
      continue;
    }
    let items: ReturnType<typeof decodeBatch>;
    try {
      items = decodeBatch(record.value);
    } catch (err) {
      if (!(err instanceof BatchDecodeError)) throw err;
      rejects.push({ ref: record.ref, reason: err.message });
      continue;
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if ('error' in item) {
        rejects.push({ ref: record.ref, reason: `event ${i}: ${item.error}`, value: Buffer.from(item.line) });
        continue;
      }
      const checked = validateEvent(item.value);
      if (!checked.ok) {
        rejects.push({
          ref: record.ref,
          reason: `event ${i}: ${checked.reason}`,
          value: Buffer.from(JSON.stringify(item.value)),
        });
        continue;
      }
      valid++;
      const tenant = checked.event.tenant;
      let list = byTenant.get(tenant);
      if (!list) {
        list = [];
        byTenant.set(tenant, list);
      }
      list.push({ event: checked.event, team: record.team });
    }
  }
  return { byTenant, rejects, valid };
}

/** `host \0 agentId`: one agent's sequence within a tenant. */
export const agentKey = (host: string, agentId: string) => `${host}\u0000${agentId}`;

export interface AgentUpdate {
  host: string;
  agentId: string;
  team?: string | undefined;
  /** The new watermark: the highest seq written (or skipped as already written). */
  maxSeq: number;
  written: number;
  duplicates: number;
  /** Sequence numbers jumped over: events that never reached ingest. */
  gapEvents: number;
  /** The latest agent.stats of this batch. */
  stats?: { mode: string; droppedKernel: number; droppedUser: number; spooled?: number | undefined };
}

export interface Deduped {
  fresh: AcceptedEvent[];
  agents: AgentUpdate[];
  duplicates: number;
}

/**
 * Keeps the events above each agent's watermark. Agents number events 0, 1, 2... and ship
 * them in order (spool replays included), so anything at or below the highest seq written
 * is a replay: a redelivered Kafka record, or a batch the agent sent again after a lost ack.
 */
export function dedupeEvents(events: readonly AcceptedEvent[], watermarks: ReadonlyMap<string, number>): Deduped {
  const agents = new Map<string, AgentUpdate>();
  const fresh: AcceptedEvent[] = [];
  let duplicates = 0;
  for (const accepted of events) {
    const { event } = accepted;
    const key = agentKey(event.host, event.agentId);
    let agent = agents.get(key);
    if (!agent) {
      agent = {
        host: event.host,
        agentId: event.agentId,
        team: accepted.team,
        maxSeq: watermarks.get(key) ?? -1,
        written: 0,
        duplicates: 0,
        gapEvents: 0,
      };
      agents.set(key, agent);
    }
    if (accepted.team !== undefined) agent.team = accepted.team;
    if (event.seq <= agent.maxSeq) {
      agent.duplicates++;
      duplicates++;
      continue;
    }
    agent.gapEvents += event.seq - agent.maxSeq - 1;
    agent.maxSeq = event.seq;
    agent.written++;
    if (event.type === 'agent.stats') {
      agent.stats = {
        mode: event.mode,
        droppedKernel: event.droppedKernel,
        droppedUser: event.droppedUser,
        spooled: event.spooled,
      };
    }
    fresh.push(accepted);
  }
  return { fresh, agents: [...agents.values()], duplicates };
}
