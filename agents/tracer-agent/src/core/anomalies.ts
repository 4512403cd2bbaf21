// `tracer trace anomalies`, after Inspect AI's command of the same name: what did not end
// well. By default processes still running when the trace ended and killed or cancelled
// ones, most recent first; with `all`, failed (non-zero exit) and timed-out ones too.
import { labelProcesses } from './grouping.ts';
import type { ProcessNode, ProcessTable } from './process-table.ts';
import { alignColumns, formatDuration, signalName } from './units.ts';

export type AnomalyKind = 'running' | 'killed' | 'cancelled' | 'timed-out' | 'failed';

export interface Anomaly {
  kind: AnomalyKind;
  upid: string;
  pid: number;
  tool: string;
  argv: string[];
  startTs: number;
  /** Exit time; the trace end for processes still running. */
  endTs: number;
  durationNs: number;
  detail: string;
}

/** Signals that ask a process to stop: someone cancelled it. */
const CANCEL_SIGNALS = new Set([1, 2, 3, 15]); // HUP INT QUIT TERM
const SIGPIPE = 13;
/** GNU timeout's own status when the time limit was hit. */
const TIMEOUT_EXIT = 124;

const isTimeoutTool = (node: ProcessNode | undefined) =>
  node?.argv?.[0] !== undefined && /(^|\/)timeout$/.test(node.argv[0]);

export function classify(table: ProcessTable, node: ProcessNode): { kind: AnomalyKind; detail: string } | undefined {
  const exit = node.exit;
  if (!exit) return { kind: 'running', detail: node.lastSample ? `state ${node.lastSample.state}` : 'no exit seen' };
  if (node.oom) return { kind: 'killed', detail: `OOM kill (${node.oom.constraint})` };
  const parent = table.parentOf(node);
  if (exit.signal !== null && exit.signal !== undefined && exit.signal !== SIGPIPE) {
    const name = signalName(exit.signal);
    // timeout(1) signals its child when the limit is hit and then exits 124 itself.
    if (isTimeoutTool(parent) && parent?.exit?.exitCode === TIMEOUT_EXIT) {
      return { kind: 'timed-out', detail: `${name} from timeout` };
    }
    return CANCEL_SIGNALS.has(exit.signal)
      ? { kind: 'cancelled', detail: name }
      : { kind: 'killed', detail: `${name}${exit.coreDumped ? ' (core dumped)' : ''}` };
  }
  if (exit.exitCodeUnknown || exit.exitCode === 0) return undefined;
  if (exit.exitCode === TIMEOUT_EXIT && isTimeoutTool(node)) return { kind: 'timed-out', detail: 'time limit hit' };
  return { kind: 'failed', detail: `exit ${exit.exitCode}` };
}

const DEFAULT_KINDS: ReadonlySet<AnomalyKind> = new Set(['running', 'killed', 'cancelled']);

export function findAnomalies(table: ProcessTable, options: { all?: boolean } = {}): Anomaly[] {
  const labels = labelProcesses(table);
  const end = table.endTs();
  const out: Anomaly[] = [];
  for (const node of table.nodes.values()) {
    const c = classify(table, node);
    if (!c || (!options.all && !DEFAULT_KINDS.has(c.kind))) continue;
    const endTs = node.endTs ?? end;
    out.push({
      kind: c.kind,
      upid: node.upid,
      pid: node.pid,
      tool: labels.get(node.upid) ?? '?',
      argv: node.argv ?? [],
      startTs: node.startTs,
      endTs,
      durationNs: Math.max(0, endTs - node.startTs),
      detail: c.detail,
    });
  }
  // Still running first (most recently started first), then the rest, most recent first.
  return out.sort(
    (a, b) =>
      Number(b.kind === 'running') - Number(a.kind === 'running') ||
      (a.kind === 'running' ? b.startTs - a.startTs : b.endTs - a.endTs),
  );
}

const SECTION_TITLES: Record<AnomalyKind, string> = {
  running: 'Running when the trace ended',
  killed: 'Killed',
  cancelled: 'Cancelled',
  'timed-out': 'Timed out',
  failed: 'Failed',
};
const SECTION_ORDER: AnomalyKind[] = ['running', 'killed', 'cancelled', 'timed-out', 'failed'];

export function renderAnomalies(
  anomalies: readonly Anomaly[],
  table: ProcessTable,
  options: { all?: boolean } = {},
): string {
  const start = table.meta?.ts ?? table.firstTs ?? 0;
  if (anomalies.length === 0) {
    const hint = options.all ? '' : ' (--all adds failed and timed-out ones)';
    return `No anomalies among ${table.nodes.size} processes${hint}.`;
  }
  const lines: string[] = [];
  for (const kind of SECTION_ORDER) {
    const items = anomalies.filter((a) => a.kind === kind);
    if (items.length === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(`${SECTION_TITLES[kind]} (${items.length})`);
    const rows = items.map((a) => {
      const argv = a.argv.join(' ');
      return [
        `  +${formatDuration(Math.max(0, (kind === 'running' ? a.startTs : a.endTs) - start))}`,
        `pid ${a.pid}`,
        a.tool,
        formatDuration(a.durationNs),
        a.detail,
        argv.length > 70 ? `${argv.slice(0, 69)}…` : argv,
      ];
    });
    lines.push(...alignColumns(rows, new Set([0, 3])));
  }
  return lines.join('\n');
}
