// Human units for the summary and the trace commands: binary sizes, compact durations.

const SIZE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '-';
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < SIZE_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${value} B`;
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} ${SIZE_UNITS[unit]}`;
}

const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

/** `0`, `850us`, `12ms`, `1.23s`, `42.1s`, `2m03s`, `1h02m`, `3d04h`. */
export function formatDuration(ns: number): string {
  if (!Number.isFinite(ns) || ns < 0) return '-';
  if (ns === 0) return '0';
  if (ns < NS_PER_MS) return `${Math.round(ns / 1e3)}us`;
  if (ns < NS_PER_S) return `${Math.round(ns / NS_PER_MS)}ms`;
  const s = ns / NS_PER_S;
  if (s < 10) return `${s.toFixed(2)}s`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const totalS = Math.round(s);
  if (totalS < 3600) return `${Math.floor(totalS / 60)}m${pad2(totalS % 60)}s`;
  const totalM = Math.floor(totalS / 60);
  if (totalM < 24 * 60) return `${Math.floor(totalM / 60)}h${pad2(totalM % 60)}m`;
  const totalH = Math.floor(totalM / 60);
  return `${Math.floor(totalH / 24)}d${pad2(totalH % 24)}h`;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** An ISO-8601 UTC time with milliseconds from a ns timestamp. */
export function formatTimestamp(tsNs: number): string {
  return new Date(Math.floor(tsNs / NS_PER_MS)).toISOString();
}

/** Pads every column of `rows` to its widest cell; `right` marks columns aligned right. */
export function alignColumns(rows: string[][], right: ReadonlySet<number> = new Set()): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        right.has(i) ? cell.padStart(widths[i]!) : i === row.length - 1 ? cell : cell.padEnd(widths[i]!),
      )
      .join('  ')
      .trimEnd(),
  );
}

export { signalName, signalNumber } from '@tracer/events';
