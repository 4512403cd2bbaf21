// The summary `tracer run` prints: what a person reads at a glance after a run. Failures
// first (OOM kills, signals, non-zero exits with their last stderr lines), then the
// run > step > tool table, aligned, in human units.
import {
  type Aggregate,
  aggregate,
  groupRun,
  isFailure,
  type ProcessStatus,
  type RunGroup,
  type StepGroup,
  statusOf,
} from './grouping.ts';
import type { ProcessNode, ProcessTable } from './process-table.ts';
import { alignColumns, formatBytes, formatDuration, signalName } from './units.ts';

export interface SummaryOptions {
  tracePath?: string;
  /** Steps listed before the rest are counted in one line. */
  maxSteps?: number;
  maxFailures?: number;
  /** stderr lines shown under each failure. */
  stderrLines?: number;
  /**
   * Only the header and closing notes: the caller prints the failures and the tree from the
   * insights and attribution cores instead of this simple grouping.
   */
  headerOnly?: boolean;
}

export function formatStatus(status: ProcessStatus): string {
  switch (status.kind) {
    case 'ok':
      return 'ok';
    case 'exit':
      return `exit ${status.code}`;
    case 'signal':
      return `${signalName(status.signal)}${status.coreDumped ? ' (core)' : ''}`;
    case 'oom':
      return 'OOM kill';
    case 'unknown':
      return '?';
    case 'running':
      return 'running';
  }
}

function failureRank(status: ProcessStatus): number {
  return status.kind === 'oom' ? 0 : status.kind === 'signal' ? 1 : 2;
}

function groupStatus(agg: Aggregate): string {
  if (agg.failed > 1) return `${agg.failed} failed`;
  if (agg.running > 1 && agg.status.kind === 'running') return `${agg.running} running`;
  return formatStatus(agg.status);
}

export function renderSummary(table: ProcessTable, options: SummaryOptions = {}): string {
  const maxSteps = options.maxSteps ?? 25;
  const maxFailures = options.maxFailures ?? 10;
  const stderrLines = options.stderrLines ?? 5;
  const run = groupRun(table);
  const lines: string[] = [];

  lines.push(...renderHeader(table, run, options.tracePath, !options.headerOnly));
  if (!options.headerOnly) lines.push(...renderFailuresAndTable(table, run, { maxSteps, maxFailures, stderrLines }));

  const running = run.agg.running;
  if (running > 0)
    lines.push(
      '',
      `${running} process${running === 1 ? ' was' : 'es were'} still running when the trace ended (tracer trace anomalies).`,
    );
  if (table.meta?.mode === 'proc') {
    lines.push(
      '',
      'Sampled from /proc: processes shorter than the poll interval may be missing, "?" marks exits reaped before their status could be read, and CPU, peak RSS and I/O are as of the last poll.',
    );
  }
  return lines.join('\n');
}

function renderFailuresAndTable(
  table: ProcessTable,
  run: RunGroup,
  { maxSteps, maxFailures, stderrLines }: { maxSteps: number; maxFailures: number; stderrLines: number },
): string[] {
  const lines: string[] = [];
  const stepOf = new Map<string, number>();
  const stepRoots = new Set(run.steps.map((s) => s.root.upid));
  const own = new Set(run.own.map((n) => n.upid));
  for (const step of run.steps) for (const p of step.processes) stepOf.set(p.upid, step.index);
  const all = [...table.nodes.values()]
    .map((node) => ({ node, status: statusOf(node) }))
    .filter((f) => isFailure(f.status))
    .sort((a, b) => failureRank(a.status) - failureRank(b.status) || (a.node.endTs ?? 0) - (b.node.endTs ?? 0));
  // A non-zero exit deep inside a step whose parent carried on (`readlink x || ...`) was
  // handled; it is counted, not listed.
  const listed = (node: ProcessNode, status: ProcessStatus) => {
    if (status.kind !== 'exit' || own.has(node.upid) || stepRoots.has(node.upid)) return true;
    const parent = table.parentOf(node);
    return parent !== undefined && isFailure(statusOf(parent));
  };
  const failures = all.filter((f) => listed(f.node, f.status));
  const handled = all.length - failures.length;
  if (all.length > 0) {
    lines.push('', `Failures (${all.length})`);
    const rows = failures.slice(0, maxFailures).map(({ node, status }) => {
      const step = stepOf.get(node.upid);
      return [
        `  ${formatStatus(status)}`,
        run.labels.get(node.upid) ?? '?',
        `pid ${node.pid}`,
        step === undefined ? 'run root' : `step ${step}`,
        failureDetail(node, status),
      ];
    });
    const aligned = alignColumns(rows);
    failures.slice(0, maxFailures).forEach(({ node }, i) => {
      lines.push(aligned[i]!);
      for (const l of node.stderrTail.slice(-stderrLines)) lines.push(`      | ${l}`);
    });
    const more = failures.length - Math.min(failures.length, maxFailures);
    if (more > 0) lines.push(`  ... ${more} more`);
    if (handled > 0) {
      lines.push(`  ... ${handled} non-zero exit${handled === 1 ? '' : 's'} inside steps whose parent carried on`);
    }
    if (more > 0 || handled > 0) lines.push('  (tracer trace anomalies --all lists every one)');
  }

  lines.push('', ...renderTable(run, maxSteps));
  return lines;
}

/** `withSteps`: the simple grouping's step count, left out when the engine-aware tree follows. */
function renderHeader(table: ProcessTable, run: RunGroup, tracePath: string | undefined, withSteps: boolean): string[] {
  const meta = table.meta;
  const rootStatus = run.root ? formatStatus(statusOf(run.root)) : '?';
  const title = run.pipeline !== undefined && meta?.run !== undefined ? `${run.pipeline} / ${run.name}` : run.name;
  const steps = withSteps ? `, ${run.steps.length} step${run.steps.length === 1 ? '' : 's'}` : '';
  const out = [
    `tracer: ${title} -- ${rootStatus} after ${formatDuration(run.agg.wallNs)}, ${run.agg.processes} process${run.agg.processes === 1 ? '' : 'es'}${steps}`,
    `  command: ${run.command.join(' ')}`,
  ];
  if (meta)
    out.push(
      `  capture: ${meta.mode === 'bpf' ? 'eBPF' : '/proc sampling'}${meta.fallbackReason ? ` (${meta.fallbackReason})` : ''}`,
    );
  const stats = table.stats;
  const tail = stats
    ? `, ${stats.eventsSent} events, dropped ${stats.droppedKernel} in kernel and ${stats.droppedUser} in user space`
    : '';
  if (tracePath) out.push(`  trace: ${tracePath}${tail}`);
  else if (stats) out.push(`  events: ${tail.slice(2)}`);
  return out;
}

function failureDetail(node: ProcessNode, status: ProcessStatus): string {
  if (status.kind === 'oom' && node.oom) {
    const parts = [
      `killed by the kernel (${node.oom.constraint === 'memcg' ? 'cgroup memory limit' : `${node.oom.constraint} OOM`})`,
    ];
    if (node.oom.memoryLimitBytes !== undefined) parts.push(`limit ${formatBytes(node.oom.memoryLimitBytes)}`);
    parts.push(`peak RSS ${formatBytes(Math.max(node.peakRssBytes, node.oom.victimRssBytes ?? 0))}`);
    return parts.join(', ');
  }
  const argv = (node.argv ?? []).join(' ');
  return argv.length > 80 ? `${argv.slice(0, 79)}…` : argv;
}

const HEADINGS = ['', 'procs', 'wall', 'cpu', 'peak RSS', 'read', 'write', 'I/O wait', 'status'];
const RIGHT = new Set([1, 2, 3, 4, 5, 6, 7]);

function row(name: string, agg: Aggregate): string[] {
  return [
    name,
    String(agg.processes),
    formatDuration(agg.wallNs),
    formatDuration(agg.cpuNs),
    formatBytes(agg.peakRssBytes),
    formatBytes(agg.readBytes),
    formatBytes(agg.writeBytes),
    agg.ioWaitNs === undefined ? '-' : formatDuration(agg.ioWaitNs),
    groupStatus(agg),
  ];
}

/** Consecutive steps with the same label (a loop over samples) share one row. */
interface StepRow {
  first: StepGroup;
  last: StepGroup;
  steps: StepGroup[];
}

function stepRows(steps: readonly StepGroup[]): StepRow[] {
  const rows: StepRow[] = [];
  // Failed or still running steps keep rows of their own.
  const plain = (s: StepGroup) => s.agg.failed === 0 && s.agg.running === 0;
  for (const step of steps) {
    const prev = rows.at(-1);
    if (prev && prev.last.label === step.label && plain(prev.last) && plain(step)) {
      prev.steps.push(step);
      prev.last = step;
    } else rows.push({ first: step, last: step, steps: [step] });
  }
  return rows;
}

function renderTable(run: RunGroup, maxSteps: number): string[] {
  const rows: string[][] = [HEADINGS];
  const end = run.agg.endTs;
  rows.push(row(`run ${run.name}`, run.agg));
  if (run.steps.length > 0 && run.own.length > 0) {
    const rootLabel = run.labels.get(run.own[run.own.length - 1]!.upid) ?? '?';
    rows.push(row(`  (root) ${rootLabel}`, aggregate(run.own, end)));
  }
  const grouped = stepRows(run.steps);
  // Rows with failures are always listed; the rest in start order up to the bound.
  let hidden = 0;
  grouped.forEach((g, i) => {
    const processes = g.steps.flatMap((s) => s.processes);
    const agg = g.steps.length === 1 ? g.first.agg : aggregate(processes, end);
    if (i >= maxSteps && agg.failed === 0) {
      hidden += g.steps.length;
      return;
    }
    const name =
      g.steps.length === 1
        ? `  step ${g.first.index} ${g.first.label}`
        : `  steps ${g.first.index}-${g.last.index} ${g.first.label} (${g.steps.length})`;
    rows.push(row(name, agg));
    const byLabel = new Map<string, ProcessNode[]>();
    for (const s of g.steps)
      for (const t of s.tools) byLabel.set(t.label, [...(byLabel.get(t.label) ?? []), ...t.processes]);
    const only = [...byLabel.keys()];
    if (only.length === 1 && only[0] === g.first.label) return;
    for (const [label, procs] of byLabel) rows.push(row(`    ${label}`, aggregate(procs, end)));
  });
  const out = alignColumns(rows, RIGHT);
  if (hidden > 0) out.push(`  ... ${hidden} more steps (tracer trace dump)`);
  return out;
}
