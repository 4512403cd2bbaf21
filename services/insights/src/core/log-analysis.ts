// Log analysis: captured output becomes numbered lines (per process, per stream, from 1, in
// the order captured), and lines become findings (error or warning, the pattern that matched,
// a root-cause hint). Multi-line shapes are read with a little context: the frames of a Java
// stack trace or a Python traceback are context, while the exception line, each "Caused by"
// and the traceback's final line are the findings.
import type { LogChunk, RootCauseCategory } from '@tracer/events';
import { javaFrameRe, type LogLevel, logPatterns, pythonFrameRe } from './log-patterns.ts';

export type Stream = 'stdout' | 'stderr';

export interface LogLine {
  pid: number;
  upid?: string;
  stream: Stream;
  /** 1-based, per process and stream, as captured. */
  line: number;
  /** ns since the epoch of the chunk that completed the line. */
  ts: number;
  text: string;
}

export interface LineMatch {
  level: LogLevel;
  patternId: string;
  category?: RootCauseCategory;
  weight?: number;
}

export type MarkedLine = LogLine & LineMatch;

/** A finding with its repeats folded in: `count` identical lines (numbers aside) from `line` to `lastLine`. */
export interface LogFinding extends MarkedLine {
  count: number;
  lastLine: number;
  lastTs: number;
}

/** Where a stream stands: lines so far, an incomplete last line, and the multi-line context. */
export interface LogCursor {
  lineCount: number;
  partial: string;
  context: 'none' | 'python' | 'java';
}

/** A line longer than this is cut into pieces: a tool printing megabytes without a newline must not grow state. */
const MAX_LINE_CHARS = 16384;
export const MAX_STORED_LINE_CHARS = 2048;

export function createLogCursor(): LogCursor {
  return { lineCount: 0, partial: '', context: 'none' };
}

/** What a terminal would show for a line: CR LF is a newline, a lone CR rewinds (progress bars). */
function visible(raw: string): string {
  const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  const cr = text.lastIndexOf('\r');
  return cr >= 0 ? text.slice(cr + 1) : text;
}

/** Appends a chunk; returns the lines it completed, numbered. */
export function feedLogChunk(cursor: LogCursor, text: string): Array<{ line: number; text: string }> {
  const out: Array<{ line: number; text: string }> = [];
  const parts = (cursor.partial + text).split('\n');
  cursor.partial = parts.pop() ?? '';
  while (cursor.partial.length > MAX_LINE_CHARS) {
    parts.push(cursor.partial.slice(0, MAX_LINE_CHARS));
    cursor.partial = cursor.partial.slice(MAX_LINE_CHARS);
  }
  for (const part of parts) out.push({ line: ++cursor.lineCount, text: visible(part) });
  return out;
}

/** Completes the last line when the process ended without a trailing newline. */
export function flushLogCursor(cursor: LogCursor): { line: number; text: string } | undefined {
  if (cursor.partial === '') return undefined;
  const text = visible(cursor.partial);
  cursor.partial = '';
  return { line: ++cursor.lineCount, text };
}

const levelRank = { warning: 1, error: 2 } as const;

// Most lines match nothing: one pass over every pattern at once (per flag set) rules them out
// before the table is walked row by row.
const anyPattern = (() => {
  const groups = new Map<string, string[]>();
  for (const p of logPatterns) {
    const list = groups.get(p.re.flags) ?? [];
    list.push(`(?:${p.re.source})`);
    groups.set(p.re.flags, list);
  }
  return [...groups.entries()].map(([flags, sources]) => new RegExp(sources.join('|'), flags.replace('g', '')));
})();

/** Matches one line against the pattern table, ignoring context. */
export function matchLogLine(text: string): LineMatch | undefined {
  if (text.length === 0 || text.trim().length === 0) return undefined;
  const probe = text.length > MAX_STORED_LINE_CHARS ? text.slice(0, MAX_STORED_LINE_CHARS) : text;
  if (!anyPattern.some((re) => re.test(probe))) return undefined;
  let best: LineMatch | undefined;
  let bestCause: { category: RootCauseCategory; weight: number } | undefined;
  for (const p of logPatterns) {
    if (!p.re.test(probe)) continue;
    if (!best || levelRank[p.level] > levelRank[best.level]) best = { level: p.level, patternId: p.id };
    if (p.category && p.weight !== undefined && (!bestCause || p.weight > bestCause.weight)) {
      bestCause = { category: p.category, weight: p.weight };
    }
  }
  if (!best) return undefined;
  if (bestCause) {
    best.category = bestCause.category;
    // A cause matched on a warning-level line counts for less: tools warn about what they survive.
    best.weight = best.level === 'error' ? bestCause.weight : Math.min(bestCause.weight, 0.3);
  }
  return best;
}

/** Classifies the next line of a stream, keeping the traceback context in the cursor. */
export function classifyLogLine(cursor: LogCursor, text: string): LineMatch | undefined {
  if (cursor.context === 'python') {
    if (pythonFrameRe.test(text) || text.trim() === '') return undefined;
    cursor.context = 'none';
    // The first unindented line after the frames is the exception: an error whatever its shape.
    const m = matchLogLine(text);
    if (m) return { ...m, level: 'error' };
    return { level: 'error', patternId: 'py.exception' };
  }
  if (cursor.context === 'java') {
    if (javaFrameRe.test(text)) return undefined;
    cursor.context = 'none';
  }
  const m = matchLogLine(text);
  if (!m) return undefined;
  if (m.patternId === 'py.traceback' || /^Traceback \(most recent call last\):/.test(text)) cursor.context = 'python';
  else if (m.level === 'error' && /(?:Exception|Error)\b/.test(text) && !/^\s/.test(text)) cursor.context = 'java';
  else if (/^\s*Caused by: /.test(text)) cursor.context = 'java';
  return m;
}

/** Every log line of a trace, per process and stream, numbered as captured. */
export function collectTraceLogs(events: Iterable<{ type: string }>): Map<string, LogLine[]> {
  const cursors = new Map<string, LogCursor>();
  const out = new Map<string, LogLine[]>();
  const meta = new Map<string, { pid: number; upid?: string; stream: Stream; ts: number }>();
  for (const ev of events) {
    if (ev.type !== 'log.chunk') continue;
    const c = ev as LogChunk;
    const key = logKey(c.pid, c.upid, c.stream);
    let cursor = cursors.get(key);
    if (!cursor) {
      cursor = createLogCursor();
      cursors.set(key, cursor);
      out.set(key, []);
    }
    meta.set(key, { pid: c.pid, upid: c.upid, stream: c.stream, ts: c.ts });
    const lines = out.get(key)!;
    for (const l of feedLogChunk(cursor, c.text))
      lines.push({ pid: c.pid, upid: c.upid, stream: c.stream, line: l.line, ts: c.ts, text: l.text });
  }
  for (const [key, cursor] of cursors) {
    const l = flushLogCursor(cursor);
    const m = meta.get(key)!;
    if (l) out.get(key)!.push({ pid: m.pid, upid: m.upid, stream: m.stream, line: l.line, ts: m.ts, text: l.text });
  }
  return out;
}

export function logKey(pid: number, upid: string | undefined, stream: Stream): string {
  return `${upid ?? pid}:${stream}`;
}

/** Marks the error and warning lines of one stream's lines (in order). */
export function analyzeLog(lines: readonly LogLine[]): MarkedLine[] {
  const cursor = createLogCursor();
  const out: MarkedLine[] = [];
  for (const l of lines) {
    const m = classifyLogLine(cursor, l.text);
    if (m) out.push({ ...l, ...m });
  }
  return out;
}

/** The text with its numbers, addresses and ids blanked: repeats that differ only there fold together. */
export function repeatKey(text: string): string {
  return text
    .replace(/0x[0-9a-fA-F]+/g, '#')
    .replace(/[0-9a-fA-F]{8,}/g, '#')
    .replace(/\d+(?:\.\d+)?/g, '#')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Folds repeated findings (same stream, same text up to numbers) into one with a count. */
export function dedupeFindings(marked: readonly MarkedLine[]): LogFinding[] {
  const byKey = new Map<string, LogFinding>();
  const out: LogFinding[] = [];
  for (const m of marked) {
    const key = `${m.upid ?? m.pid}:${m.stream}:${repeatKey(m.text)}`;
    const seen = byKey.get(key);
    if (seen) {
      seen.count++;
      seen.lastLine = m.line;
      seen.lastTs = m.ts;
      continue;
    }
    const f: LogFinding = { ...m, count: 1, lastLine: m.line, lastTs: m.ts };
    byKey.set(key, f);
    out.push(f);
  }
  return out;
}

export interface LogFilter {
  level?: LogLevel;
  /** Case-insensitive substring, or a RegExp. */
  text?: string | RegExp;
  sinceTs?: number;
  untilTs?: number;
  pid?: number;
  stream?: Stream;
}

/** Search and filter: a level filter keeps that level and above (warning keeps errors too). */
export function filterLogLines<T extends LogLine & Partial<LineMatch>>(lines: readonly T[], filter: LogFilter): T[] {
  const needle = typeof filter.text === 'string' ? filter.text.toLowerCase() : undefined;
  return lines.filter((l) => {
    if (filter.level && (!l.level || levelRank[l.level] < levelRank[filter.level])) return false;
    if (filter.pid !== undefined && l.pid !== filter.pid) return false;
    if (filter.stream && l.stream !== filter.stream) return false;
    if (filter.sinceTs !== undefined && l.ts < filter.sinceTs) return false;
    if (filter.untilTs !== undefined && l.ts > filter.untilTs) return false;
    if (needle !== undefined && !l.text.toLowerCase().includes(needle)) return false;
    if (filter.text instanceof RegExp && !filter.text.test(l.text)) return false;
    return true;
  });
}
