// The agent's on-disk spool: every batch is appended here before it is sent, and the shipper
// sends from here in order, so a batch survives a sink outage and the agent's own restart.
// Bounded: when the spool would pass its size, whole oldest segments go first (acknowledged
// or not), and every event lost that way is counted and reported.
//
// Layout: `seg-<n>.spool` files of records, `cursor.json` (next record to send + counters),
// `agent.json` (agent id and next seq). A record is a 32-byte header (magic, payload length,
// CRC-32 of the payload, event count, first and last seq) and the payload (an encoded batch).
// A torn record at the end (a crash mid-append) fails its CRC and is cut off at open.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';

const MAGIC = 0x54525350; // 'TRSP'
const HEADER_BYTES = 32;
const SEGMENT_PATTERN = /^seg-(\d{12})\.spool$/;

export interface SpoolRecord {
  segment: number;
  offset: number;
  /** Offset just past this record: where the cursor goes once it is acknowledged. */
  end: number;
  events: number;
  firstSeq: number;
  lastSeq: number;
  payload: Buffer;
}

export interface SpoolCounters {
  /** Events acknowledged by the sink, over the agent's whole life (persisted). */
  sentEvents: number;
  /** Events lost to eviction (the spool was full). */
  evictedEvents: number;
  /** Events the sink refused for good (invalid batch), dropped after counting. */
  rejectedEvents: number;
}

export interface SpoolStats extends SpoolCounters {
  /** Events appended and not yet acknowledged. */
  pendingEvents: number;
  pendingRecords: number;
  bytes: number;
  segments: number;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Segment size; whole segments are evicted, so several must fit in maxBytes. */
  segmentBytes?: number;
}

interface Segment {
  n: number;
  path: string;
  size: number;
  /** Records of this segment: offsets, ends, counts (payloads stay on disk). */
  index: { offset: number; end: number; events: number; firstSeq: number; lastSeq: number }[];
}

interface CursorFile extends SpoolCounters {
  segment: number;
  offset: number;
}

export class SpoolError extends Error {
  override name = 'SpoolError';
}

export class Spool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly segmentBytes: number;
  readonly #segments: Segment[] = [];
  #writeFd: number | undefined;
  #cursor: { segment: number; offset: number };
  #counters: SpoolCounters;
  #dirty = false;
  /** Highest seq ever appended (persisted through the records and agent.json). */
  #lastSeq = -1;
  /** Segments holding records of the send in flight: not evictable until it ends. */
  #sending = new Set<number>();

  private constructor(options: SpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes;
    this.segmentBytes = Math.max(
      64 * 1024,
      Math.min(options.segmentBytes ?? 16 * 1024 * 1024, Math.floor(options.maxBytes / 4)),
    );
    this.#cursor = { segment: 0, offset: 0 };
    this.#counters = { sentEvents: 0, evictedEvents: 0, rejectedEvents: 0 };
  }

  /** Opens (or creates) the spool, checks every record, cuts a torn tail. */
  static open(options: SpoolOptions): Spool {
    if (!Number.isFinite(options.maxBytes) || options.maxBytes < 256 * 1024) {
      throw new SpoolError(`spool size ${options.maxBytes} is below the 256 KiB minimum`);
    }
    mkdirSync(options.dir, { recursive: true });
    const spool = new Spool(options);
    spool.#load();
    return spool;
  }

  #load(): void {
    const names = readdirSync(this.dir)
      .map((name) => ({ name, m: SEGMENT_PATTERN.exec(name) }))
      .filter((x) => x.m)
      .map((x) => ({ n: Number(x.m![1]), path: join(this.dir, x.name) }))
      .sort((a, b) => a.n - b.n);
    for (const { n, path } of names) {
      const segment = scanSegment(n, path);
      if (segment.index.length === 0 && n !== names[names.length - 1]?.n) {
        rmSync(path, { force: true });
        continue;
      }
      this.#segments.push(segment);
      const last = segment.index[segment.index.length - 1];
      if (last) this.#lastSeq = Math.max(this.#lastSeq, last.lastSeq);
    }
    const cursor = readJson<CursorFile>(join(this.dir, 'cursor.json'));
    if (cursor) {
      this.#counters = {
        sentEvents: cursor.sentEvents ?? 0,
        evictedEvents: cursor.evictedEvents ?? 0,
        rejectedEvents: cursor.rejectedEvents ?? 0,
      };
    }
    const first = this.#segments[0];
    const at = cursor && this.#segments.find((s) => s.n === cursor.segment);
    // A cursor into a segment that is gone (evicted, deleted by hand) starts at the oldest
    // record left; a cursor between records of a live segment resumes there.
    if (at && (cursor.offset === at.size || at.index.some((r) => r.offset === cursor.offset))) {
      this.#cursor = { segment: cursor.segment, offset: cursor.offset };
    } else {
      this.#cursor = { segment: first?.n ?? 0, offset: 0 };
    }
    const state = readJson<{ lastSeq?: number }>(join(this.dir, 'agent.json'));
    if (state?.lastSeq !== undefined) this.#lastSeq = Math.max(this.#lastSeq, state.lastSeq);
  }

  /** This agent's id, made once by `create` and kept with the spool (it outlives restarts). */
  agentId(create: () => string): string {
    const path = join(this.dir, 'agent.json');
    const state = readJson<{ agentId?: string }>(path) ?? {};
    if (typeof state.agentId === 'string' && state.agentId !== '') return state.agentId;
    const agentId = create();
    writeJson(path, { ...state, agentId, lastSeq: this.#lastSeq });
    return agentId;
  }

  /** The next seq to give out: one past the highest ever appended. */
  nextSeq(): number {
    return this.#lastSeq + 1;
  }

  /** Appends one batch; evicts oldest segments first when it would not fit. */
  append(payload: Buffer, events: number, firstSeq: number, lastSeq: number): void {
    const recordBytes = HEADER_BYTES + payload.length;
    if (recordBytes > this.maxBytes / 2)
      throw new SpoolError(`a ${recordBytes}-byte batch does not fit a ${this.maxBytes}-byte spool`);
    let current = this.#segments[this.#segments.length - 1];
    if (!current || current.size + recordBytes > this.segmentBytes) current = this.#roll();
    this.#evictFor(recordBytes);
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(payload.length, 4);
    header.writeUInt32LE(crc32(payload), 8);
    header.writeUInt32LE(events, 12);
    header.writeDoubleLE(firstSeq, 16);
    header.writeDoubleLE(lastSeq, 24);
    const fd = this.#fd(current);
    writeSync(fd, Buffer.concat([header, payload]), 0, recordBytes, current.size);
    current.index.push({ offset: current.size, end: current.size + recordBytes, events, firstSeq, lastSeq });
    current.size += recordBytes;
    this.#lastSeq = Math.max(this.#lastSeq, lastSeq);
    this.#dirty = true;
  }

  /** Up to `max` records from the cursor on, in order, with their payloads. */
  peek(max: number, maxBytes = Number.POSITIVE_INFINITY): SpoolRecord[] {
    const out: SpoolRecord[] = [];
    let bytes = 0;
    for (const segment of this.#segments) {
      if (segment.n < this.#cursor.segment) continue;
      for (const r of segment.index) {
        if (segment.n === this.#cursor.segment && r.offset < this.#cursor.offset) continue;
        if (out.length >= max || (out.length > 0 && bytes + r.end - r.offset > maxBytes)) return out;
        out.push({ segment: segment.n, ...r, payload: readPayload(segment.path, r.offset, r.end) });
        bytes += r.end - r.offset;
      }
    }
    return out;
  }

  /** The shipper is sending these records: their segments stay until `endSend`. */
  beginSend(records: readonly SpoolRecord[]): void {
    this.#sending = new Set(records.map((r) => r.segment));
  }

  endSend(): void {
    this.#sending = new Set();
  }

  /** Marks records up to and including `record` as done: sent, or refused for good. */
  ack(record: SpoolRecord, outcome: 'sent' | 'rejected' = 'sent'): void {
    let events = 0;
    for (const segment of this.#segments) {
      for (const r of segment.index) {
        const afterCursor =
          segment.n > this.#cursor.segment || (segment.n === this.#cursor.segment && r.offset >= this.#cursor.offset);
        const upToRecord = segment.n < record.segment || (segment.n === record.segment && r.offset <= record.offset);
        if (afterCursor && upToRecord) events += r.events;
      }
    }
    if (outcome === 'sent') this.#counters.sentEvents += events;
    else this.#counters.rejectedEvents += events;
    this.#cursor = { segment: record.segment, offset: record.end };
    // Segments wholly behind the cursor are done; the one being written stays.
    while (this.#segments.length > 1) {
      const oldest = this.#segments[0]!;
      const behind =
        oldest.n < this.#cursor.segment || (oldest.n === this.#cursor.segment && this.#cursor.offset >= oldest.size);
      if (!behind) break;
      this.#dropSegment(oldest);
      if (this.#cursor.segment === oldest.n) this.#cursor = { segment: this.#segments[0]!.n, offset: 0 };
    }
    this.#writeCursor();
  }

  stats(): SpoolStats {
    let pendingEvents = 0;
    let pendingRecords = 0;
    let bytes = 0;
    for (const segment of this.#segments) {
      bytes += segment.size;
      for (const r of segment.index) {
        if (segment.n < this.#cursor.segment || (segment.n === this.#cursor.segment && r.offset < this.#cursor.offset))
          continue;
        pendingEvents += r.events;
        pendingRecords++;
      }
    }
    return { ...this.#counters, pendingEvents, pendingRecords, bytes, segments: this.#segments.length };
  }

  /** Makes appended records durable against a machine crash (a process crash keeps them anyway). */
  sync(): void {
    if (!this.#dirty || this.#writeFd === undefined) return;
    fdatasyncSync(this.#writeFd);
    this.#dirty = false;
  }

  /** Remembers the agent's identity and last seq beside the records, then closes. */
  close(): void {
    this.sync();
    this.#writeCursor();
    writeJson(join(this.dir, 'agent.json'), {
      ...(readJson<object>(join(this.dir, 'agent.json')) ?? {}),
      lastSeq: this.#lastSeq,
    });
    if (this.#writeFd !== undefined) closeSync(this.#writeFd);
    this.#writeFd = undefined;
  }

  #roll(): Segment {
    this.sync();
    if (this.#writeFd !== undefined) closeSync(this.#writeFd);
    this.#writeFd = undefined;
    const n = (this.#segments[this.#segments.length - 1]?.n ?? 0) + 1;
    const segment: Segment = {
      n,
      path: join(this.dir, `seg-${String(n).padStart(12, '0')}.spool`),
      size: 0,
      index: [],
    };
    writeFileSync(segment.path, Buffer.alloc(0));
    this.#segments.push(segment);
    if (this.#segments.length === 1) this.#cursor = { segment: n, offset: 0 };
    return segment;
  }

  #fd(segment: Segment): number {
    this.#writeFd ??= openSync(segment.path, 'r+');
    return this.#writeFd;
  }

  /**
   * Oldest-first eviction of whole segments until `incoming` bytes fit. The segment being
   * written is never evicted, nor one whose records are being sent right now (they may yet
   * arrive: counting them lost would be wrong); the spool may then pass its bound by a segment
   * until that send ends.
   */
  #evictFor(incoming: number): void {
    let total = this.#segments.reduce((n, s) => n + s.size, 0);
    while (total + incoming > this.maxBytes) {
      const victim = this.#segments.slice(0, -1).find((s) => !this.#sending.has(s.n));
      if (!victim) return;
      for (const r of victim.index) {
        const acked =
          victim.n < this.#cursor.segment || (victim.n === this.#cursor.segment && r.offset < this.#cursor.offset);
        if (!acked) this.#counters.evictedEvents += r.events;
      }
      total -= victim.size;
      this.#dropSegment(victim);
      if (this.#cursor.segment === victim.n || this.#cursor.segment < this.#segments[0]!.n) {
        const next = this.#segments.find((s) => s.n > victim.n)!;
        this.#cursor = { segment: next.n, offset: 0 };
      }
      this.#writeCursor();
    }
  }

  #dropSegment(segment: Segment): void {
    this.#segments.splice(this.#segments.indexOf(segment), 1);
    rmSync(segment.path, { force: true });
  }

  #writeCursor(): void {
    writeJson(join(this.dir, 'cursor.json'), { ...this.#cursor, ...this.#counters } satisfies CursorFile);
  }
}

function scanSegment(n: number, path: string): Segment {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const index: Segment['index'] = [];
    const header = Buffer.alloc(HEADER_BYTES);
    let offset = 0;
    while (offset + HEADER_BYTES <= size) {
      readSync(fd, header, 0, HEADER_BYTES, offset);
      const length = header.readUInt32LE(4);
      if (header.readUInt32LE(0) !== MAGIC || offset + HEADER_BYTES + length > size) break;
      const payload = Buffer.alloc(length);
      readSync(fd, payload, 0, length, offset + HEADER_BYTES);
      if (crc32(payload) !== header.readUInt32LE(8)) break;
      const end = offset + HEADER_BYTES + length;
      index.push({
        offset,
        end,
        events: header.readUInt32LE(12),
        firstSeq: header.readDoubleLE(16),
        lastSeq: header.readDoubleLE(24),
      });
      offset = end;
    }
    // Whatever follows the last good record is a torn append: cut it so appends resume cleanly.
    if (offset < size) ftruncateSync(fd, offset);
    return { n, path, size: offset, index };
  } finally {
    closeSync(fd);
  }
}

function readPayload(path: string, offset: number, end: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const payload = Buffer.alloc(end - offset - HEADER_BYTES);
    readSync(fd, payload, 0, payload.length, offset + HEADER_BYTES);
    return payload;
  } finally {
    closeSync(fd);
  }
}

function readJson<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Write-then-rename, so a crash leaves the old file or the new one, never half of one. */
function writeJson(path: string, value: unknown): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value)}\n`);
  renameSync(tmp, path);
}
