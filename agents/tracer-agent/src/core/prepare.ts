// From source records to events: keep what the filter keeps, bound and redact user text,
// allowlist the environment, stamp the envelope with a per-agent seq, validate. A record
// that fails validation still consumed its seq, so the gap shows the loss downstream.
import { type TelemetryEvent, validateEvent } from '@tracer/events';
import { allowlistEnv } from './env-allowlist.ts';
import { type RecordFilter, wholeHost } from './filter.ts';
import { type RedactionKind, redactArgv, redactText } from './redact.ts';
import type { SourceRecord } from './source.ts';

/** Schema bounds (packages/events): longer values are cut here, never rejected downstream. */
export const ARGV_MAX_ITEMS = 256;
export const TEXT_MAX_CHARS = 4096;
export const LOG_TEXT_MAX_CHARS = 65536;
const COMM_MAX_CHARS = 16;

export interface EnvelopeFields {
  tenant: string;
  host: string;
  agentId: string;
}

export interface Reject {
  type: string;
  seq: number;
  reason: string;
}

export interface PreparedBatch {
  events: TelemetryEvent[];
  rejects: Reject[];
  /** Kinds of the secrets removed from this batch. */
  redactions: RedactionKind[];
}

/** Bounds, redaction and the env allowlist on one record: the agent's privacy policy. */
export function applyPolicy(record: SourceRecord): { record: SourceRecord; redactions: RedactionKind[] } {
  switch (record.type) {
    case 'process.exec': {
      const bounded = record.argv.slice(0, ARGV_MAX_ITEMS);
      const { argv, kinds } = redactArgv(bounded);
      let truncated = record.argvTruncated || record.argv.length > ARGV_MAX_ITEMS;
      const cut = argv.map((a) => {
        if (a.length <= TEXT_MAX_CHARS) return a;
        truncated = true;
        return a.slice(0, TEXT_MAX_CHARS);
      });
      const out: SourceRecord = {
        ...record,
        exe: record.exe.slice(0, TEXT_MAX_CHARS),
        cwd: record.cwd.slice(0, TEXT_MAX_CHARS),
        argv: cut,
        argvTruncated: truncated,
      };
      if (record.comm !== undefined) out.comm = record.comm.slice(0, COMM_MAX_CHARS);
      if (record.env !== undefined) {
        const env = allowlistEnv(record.env);
        if (env) out.env = env;
        else delete out.env;
      }
      return { record: out, redactions: kinds };
    }
    case 'trace.start': {
      const { argv, kinds } = redactArgv(record.command.slice(0, ARGV_MAX_ITEMS));
      return { record: { ...record, command: argv.map((a) => a.slice(0, TEXT_MAX_CHARS)) }, redactions: kinds };
    }
    case 'log.chunk': {
      const { text, kinds } = redactText(record.text);
      if (text.length <= LOG_TEXT_MAX_CHARS) return { record: { ...record, text }, redactions: kinds };
      const dropped = Buffer.byteLength(text.slice(LOG_TEXT_MAX_CHARS));
      return {
        record: {
          ...record,
          text: text.slice(0, LOG_TEXT_MAX_CHARS),
          droppedBytes: (record.droppedBytes ?? 0) + dropped,
        },
        redactions: kinds,
      };
    }
    case 'file.open':
    case 'syscall.error': {
      if (record.path === undefined) return { record, redactions: [] };
      const { text, kinds } = redactText(record.path.slice(0, TEXT_MAX_CHARS));
      return { record: { ...record, path: text }, redactions: kinds };
    }
    default:
      return { record, redactions: [] };
  }
}

/** Puts the envelope on a record; `type` and `ts` lead so a trace file reads well. */
export function stampEnvelope(record: SourceRecord, envelope: EnvelopeFields, seq: number): Record<string, unknown> {
  const { type, ts, ...fields } = record;
  return { type, ts: Math.round(ts), ...fields, ...envelope, seq };
}

export interface RecordPreparer {
  prepare(batch: readonly SourceRecord[]): PreparedBatch;
  /** The seq the next event will get (also the count of events stamped so far). */
  nextSeq(): number;
}

export function createRecordPreparer(options: {
  envelope: EnvelopeFields;
  filter?: RecordFilter;
  startSeq?: number;
}): RecordPreparer {
  const filter = options.filter ?? wholeHost;
  let seq = options.startSeq ?? 0;
  return {
    prepare(batch) {
      const out: PreparedBatch = { events: [], rejects: [], redactions: [] };
      for (const raw of batch) {
        let stamped: Record<string, unknown>;
        try {
          if (!filter(raw)) continue;
          const { record, redactions } = applyPolicy(raw);
          out.redactions.push(...redactions);
          stamped = stampEnvelope(record, options.envelope, seq);
        } catch (err) {
          // A record too malformed for the policy (argv not a list...) is a reject, never a crash.
          out.rejects.push({
            type: String(raw?.type),
            seq: seq++,
            reason: `malformed record: ${(err as Error).message}`,
          });
          continue;
        }
        seq++;
        const checked = validateEvent(stamped);
        if (checked.ok) out.events.push(checked.event);
        else out.rejects.push({ type: String(raw.type), seq: stamped.seq as number, reason: checked.reason });
      }
      return out;
    },
    nextSeq: () => seq,
  };
}
