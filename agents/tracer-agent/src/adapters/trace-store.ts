// Trace files on disk: where they live, what they are called, which are kept, and reading
// them back whether plain or gzip-compressed. Like Inspect AI's trace logs: the newest ones
// are kept in a data folder, older ones compressed, the rest deleted.
//
//   $TRACER_DATA_DIR, else ${XDG_DATA_HOME:-~/.local/share}/tracer
//     traces/20251122T040312Z-align.jsonl        the latest, plain
//     traces/20251121T180000Z-align.jsonl.gz     older ones
//     traces/<file>.lock                         pid of a `tracer run` still writing <file>
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { validateEvent } from '@tracer/events';
import { ProcessTable } from '../core/process-table.ts';

export const DEFAULT_TRACES_KEPT = 10;
const TRACE_FILE = /^\d{8}T\d{6}Z-.*\.jsonl(\.gz)?$/;

export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRACER_DATA_DIR) return env.TRACER_DATA_DIR;
  const base = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(base, 'tracer');
}

export const tracesDir = (env: NodeJS.ProcessEnv = process.env) => join(dataDir(env), 'traces');

/** How many traces to keep: TRACER_TRACE_KEEP, default 10. A bad value stops the command. */
export function tracesKept(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.TRACER_TRACE_KEEP;
  if (raw === undefined || raw === '') return DEFAULT_TRACES_KEPT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`TRACER_TRACE_KEEP must be a whole number >= 1, got ${JSON.stringify(raw)}`);
  return n;
}

export function slugify(name: string): string {
  const slug = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|-+$/g, '')
    .slice(0, 40);
  return slug || 'trace';
}

/** `20251122T040312Z-<name>.jsonl`, with `-2`, `-3`... when that name is taken. */
export function newTracePath(dir: string, name: string, at = new Date()): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  const base = `${stamp}-${slugify(name)}`;
  for (let i = 1; ; i++) {
    const candidate = join(dir, `${base}${i === 1 ? '' : `-${i}`}.jsonl`);
    if (!existsSync(candidate) && !existsSync(`${candidate}.gz`)) return candidate;
  }
}

export interface TraceFileInfo {
  path: string;
  file: string;
  compressed: boolean;
  sizeBytes: number;
  modifiedMs: number;
  /** A `tracer run` is still writing it. */
  writing: boolean;
}

const lockPath = (tracePath: string) => `${tracePath}.lock`;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function isBeingWritten(tracePath: string): boolean {
  try {
    const pid = Number(readFileSync(lockPath(tracePath), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pidAlive(pid);
  } catch {
    return false;
  }
}

export function lockTrace(tracePath: string): () => void {
  writeFileSync(lockPath(tracePath), `${process.pid}\n`);
  return () => {
    try {
      unlinkSync(lockPath(tracePath));
    } catch {
      // already gone
    }
  };
}

/** Traces in `dir`, newest first: by the start time in the name, then by modification time. */
export function listTraces(dir: string): TraceFileInfo[] {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return [];
  }
  return files
    .filter((f) => TRACE_FILE.test(f))
    .flatMap((file) => {
      const path = join(dir, file);
      try {
        const st = statSync(path);
        const compressed = file.endsWith('.gz');
        return [
          {
            path,
            file,
            compressed,
            sizeBytes: st.size,
            modifiedMs: st.mtimeMs,
            writing: !compressed && isBeingWritten(path),
          },
        ];
      } catch {
        return [];
      }
    })
    .sort((a, b) => b.file.slice(0, 16).localeCompare(a.file.slice(0, 16)) || b.modifiedMs - a.modifiedMs);
}

export function latestTrace(dir: string): TraceFileInfo | undefined {
  return listTraces(dir)[0];
}

/**
 * Compresses every plain trace but `current` and those still being written, then deletes
 * the oldest beyond `keep` (counting `current`).
 */
export async function rotateTraces(
  dir: string,
  keep: number,
  current?: string,
): Promise<{ compressed: string[]; deleted: string[] }> {
  const compressed: string[] = [];
  const deleted: string[] = [];
  for (const t of listTraces(dir)) {
    if (t.compressed || t.path === current || t.writing) continue;
    const gz = `${t.path}.gz`;
    await pipeline(createReadStream(t.path), createGzip(), createWriteStream(gz));
    unlinkSync(t.path);
    compressed.push(gz);
  }
  const all = listTraces(dir);
  for (const t of all.slice(keep)) {
    if (t.path === current || t.writing) continue;
    unlinkSync(t.path);
    deleted.push(t.path);
  }
  return { compressed, deleted };
}

/** Lines of a trace file, gunzipped when it starts with the gzip magic bytes. */
export async function* readTraceLines(path: string): AsyncGenerator<string> {
  const head = Buffer.alloc(2);
  const fd = await open(path);
  try {
    await fd.read(head, 0, 2, 0);
  } finally {
    await fd.close();
  }
  const raw = createReadStream(path);
  const stream = head[0] === 0x1f && head[1] === 0x8b ? raw.pipe(createGunzip()) : raw;
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  try {
    for await (const line of lines) if (line.trim() !== '') yield line;
  } finally {
    lines.close();
    raw.destroy();
  }
}

export type TraceLine = { lineNo: number; value: Record<string, unknown> } | { lineNo: number; error: string };

/** Parsed lines; a line that is not a JSON object (a trace cut by a crash) comes back as an error. */
export async function* readTrace(path: string): AsyncGenerator<TraceLine> {
  let lineNo = 0;
  for await (const line of readTraceLines(path)) {
    lineNo++;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        yield { lineNo, value: value as Record<string, unknown> };
      } else yield { lineNo, error: 'not a JSON object' };
    } catch (err) {
      yield { lineNo, error: (err as Error).message };
    }
  }
}

/** The first event of a trace (its trace.start), reading no further. */
export async function readFirstEvent(path: string): Promise<Record<string, unknown> | undefined> {
  for await (const line of readTrace(path)) return 'value' in line ? line.value : undefined;
  return undefined;
}

export interface LoadedTrace {
  table: ProcessTable;
  /** Lines that were not valid events, with why (first few). */
  badLines: number;
  problems: string[];
}

/** Folds a trace file into a process table; invalid lines are counted and skipped. */
export async function loadTrace(path: string): Promise<LoadedTrace> {
  const table = new ProcessTable();
  let badLines = 0;
  const problems: string[] = [];
  for await (const line of readTrace(path)) {
    const checked = 'value' in line ? validateEvent(line.value) : { ok: false as const, reason: line.error };
    if (checked.ok) {
      table.apply(checked.event);
      continue;
    }
    badLines++;
    if (problems.length < 5) problems.push(`line ${line.lineNo}: ${checked.reason}`);
  }
  return { table, badLines, problems };
}
