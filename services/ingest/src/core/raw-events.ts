// The raw consumer's first two steps, with no I/O: decode Kafka records into valid events
// (each invalid one becomes a reject with its reason and its own bytes), then drop what an
// agent sent before (the per-agent sequence watermark) and say what each agent's row becomes.
import { decodeRecord, hostKey, type TelemetryEvent, validateEvent } from '@tracer/events';

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
  /** The record the event came in, shared by its events. */
  source?: RawSource;
}

/**
 * A record as received. `clean` when every line was a valid event of one tenant and one host:
 * if all of them turn out fresh, the record can be passed on as it came, unencoded.
 */
export interface RawSource {
  value: Buffer;
  events: number;
  clean: boolean;
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
    const decoded = decodeRecord(record.value);
    if ('reason' in decoded) {
      rejects.push({ ref: record.ref, reason: decoded.reason });
      continue;
    }
    const items = decoded.items;
    const source: RawSource = { value: record.value!, events: items.length, clean: true };
    let first: TelemetryEvent | undefined;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      if ('error' in item) {
        source.clean = false;
        rejects.push({ ref: record.ref, reason: `event ${i}: ${item.error}`, value: Buffer.from(item.line) });
        continue;
      }
      const checked = validateEvent(item.value);
      if (!checked.ok) {
        source.clean = false;
        rejects.push({
          ref: record.ref,
          reason: `event ${i}: ${checked.reason}`,
          value: Buffer.from(JSON.stringify(item.value)),
        });
        continue;
      }
      valid++;
      first ??= checked.event;
      if (checked.event.tenant !== first.tenant || checked.event.host !== first.host) source.clean = false;
      const tenant = checked.event.tenant;
      let list = byTenant.get(tenant);
      if (!list) {
        list = [];
        byTenant.set(tenant, list);
      }
      list.push({ event: checked.event, team: record.team, source });
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
/**
 * Kafka records for fresh events, in order: a clean record whose events are all fresh goes on
 * as it came (no re-encoding, the common case); the others are re-encoded from their events.
 */
export function normalizedRecords(
  fresh: readonly AcceptedEvent[],
  encode: (events: TelemetryEvent[]) => { key: string; value: Buffer }[],
): { key: string; value: Buffer; team?: string | undefined }[] {
  const out: { key: string; value: Buffer; team?: string | undefined }[] = [];
  let i = 0;
  while (i < fresh.length) {
    const { source, team } = fresh[i]!;
    let j = i + 1;
    while (j < fresh.length && fresh[j]!.source === source && fresh[j]!.team === team) j++;
    const run = fresh.slice(i, j);
    if (source?.clean && run.length === source.events) {
      const e = run[0]!.event;
      out.push({ key: hostKey(e.tenant, e.host), value: source.value, team });
    } else {
      for (const r of encode(run.map((a) => a.event))) out.push({ ...r, team });
    }
    i = j;
  }
  return out;
}

export function dedupeEvents(events: readonly AcceptedEvent[], watermarks: ReadonlyMap<string, number>): Deduped {
  const agents = new Map<string, AgentUpdate>();
  const fresh: AcceptedEvent[] = [];
  let duplicates = 0;
  let agent: AgentUpdate | undefined;
  for (const accepted of events) {
    const { event } = accepted;
    // Events come in runs of one agent: the key is built only when the agent changes.
    if (!agent || agent.host !== event.host || agent.agentId !== event.agentId) {
      const key = agentKey(event.host, event.agentId);
      agent = agents.get(key);
    }
    if (!agent) {
      const key = agentKey(event.host, event.agentId);
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
