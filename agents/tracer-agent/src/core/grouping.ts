// The simple grouping of `tracer run` (issue 3): the root command is the run, each direct
// child of the root is a step, and each step's processes are grouped by tool. A root that
// is only a shell or wrapper around one command (`time make`, `bash -c 'nextflow run x'`)
// is seen through, so the steps are that command's children. Engine-aware attribution
// (Nextflow tasks, Snakemake rules) replaces this in services/attribution.
import type { ProcessNode, ProcessTable } from './process-table.ts';
import { isShellOrWrapper, labelTool } from './tool-label.ts';

export type ProcessStatus =
  | { kind: 'ok' }
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signal: number; coreDumped: boolean }
  | { kind: 'oom' }
  | { kind: 'unknown' }
  | { kind: 'running' };

const SIGPIPE = 13;

export function statusOf(node: ProcessNode): ProcessStatus {
  const exit = node.exit;
  if (!exit) return { kind: 'running' };
  if (node.oom) return { kind: 'oom' };
  if (exit.signal !== null && exit.signal !== undefined)
    return { kind: 'signal', signal: exit.signal, coreDumped: exit.coreDumped };
  if (exit.exitCodeUnknown) return { kind: 'unknown' };
  return exit.exitCode === 0 ? { kind: 'ok' } : { kind: 'exit', code: exit.exitCode };
}

/**
 * A failure a person must look at. SIGPIPE is not one: it is how `producer | head` ends the
 * producer on purpose.
 */
export function isFailure(status: ProcessStatus): boolean {
  return status.kind === 'oom' || status.kind === 'exit' || (status.kind === 'signal' && status.signal !== SIGPIPE);
}

function severity(status: ProcessStatus): number {
  switch (status.kind) {
    case 'oom':
      return 6;
    case 'signal':
      return status.signal === SIGPIPE ? 1 : 5;
    case 'exit':
      return 4;
    case 'running':
      return 3;
    case 'unknown':
      return 2;
    default:
      return 0;
  }
}

export interface Aggregate {
  processes: number;
  failed: number;
  running: number;
  startTs: number;
  endTs: number;
  wallNs: number;
  cpuNs: number;
  peakRssBytes: number;
  readBytes: number;
  writeBytes: number;
  /** Undefined when no process reported it (no BPF, no delay accounting). */
  ioWaitNs?: number;
  /** The most severe status among the processes. */
  status: ProcessStatus;
  sampled: boolean;
}

export function aggregate(nodes: readonly ProcessNode[], traceEndTs: number): Aggregate {
  const agg: Aggregate = {
    processes: nodes.length,
    failed: 0,
    running: 0,
    startTs: Number.POSITIVE_INFINITY,
    endTs: 0,
    wallNs: 0,
    cpuNs: 0,
    peakRssBytes: 0,
    readBytes: 0,
    writeBytes: 0,
    status: { kind: 'ok' },
    sampled: false,
  };
  for (const n of nodes) {
    const status = statusOf(n);
    if (isFailure(status)) agg.failed++;
    if (status.kind === 'running') agg.running++;
    if (severity(status) > severity(agg.status)) agg.status = status;
    agg.startTs = Math.min(agg.startTs, n.startTs);
    agg.endTs = Math.max(agg.endTs, n.endTs ?? traceEndTs);
    agg.peakRssBytes = Math.max(agg.peakRssBytes, n.peakRssBytes);
    if (n.sampled) agg.sampled = true;
    const ioWait = n.exit?.ioWaitNs ?? n.lastSample?.ioWaitNs;
    if (ioWait !== undefined) agg.ioWaitNs = (agg.ioWaitNs ?? 0) + ioWait;
    if (n.exit) {
      agg.cpuNs += n.exit.cpuUserNs + n.exit.cpuSysNs;
      agg.readBytes += n.exit.readBytes;
      agg.writeBytes += n.exit.writeBytes;
    } else if (n.lastSample) {
      agg.cpuNs += n.lastSample.cpuNs;
      agg.readBytes += n.lastSample.readBytes;
      agg.writeBytes += n.lastSample.writeBytes;
    }
  }
  if (nodes.length === 0) agg.startTs = traceEndTs;
  agg.endTs = Math.max(agg.endTs, agg.startTs);
  agg.wallNs = agg.endTs - agg.startTs;
  return agg;
}

export interface ToolGroup {
  label: string;
  processes: ProcessNode[];
  agg: Aggregate;
}

export interface StepGroup {
  /** 1-based, in start order. */
  index: number;
  label: string;
  root: ProcessNode;
  processes: ProcessNode[];
  tools: ToolGroup[];
  agg: Aggregate;
}

export interface RunGroup {
  /** --run, else --pipeline, else the command's tool label. */
  name: string;
  pipeline?: string;
  command: string[];
  root?: ProcessNode;
  /** The root and the wrappers seen through: processes that belong to no step. */
  own: ProcessNode[];
  steps: StepGroup[];
  agg: Aggregate;
  /** Tool label of every process, fork-only processes taking their parent's. */
  labels: Map<string, string>;
}

/** The trace's root process: the one `trace.start` names, else the single parentless one. */
export function findRoot(table: ProcessTable): ProcessNode | undefined {
  const rootPid = table.meta?.rootPid;
  const roots = table.roots();
  if (rootPid !== undefined) {
    const byPid = roots.find((n) => n.pid === rootPid);
    if (byPid) return byPid;
  }
  return roots.length === 1 ? roots[0] : undefined;
}

export function labelProcesses(table: ProcessTable): Map<string, string> {
  const labels = new Map<string, string>();
  const labelOf = (node: ProcessNode): string => {
    const known = labels.get(node.upid);
    if (known !== undefined) return known;
    // A fork that never exec'd (a subshell) runs its parent's program.
    const parent = node.execCount === 0 ? table.parentOf(node) : undefined;
    const label = parent ? labelOf(parent) : labelTool(node.argv, node.exe);
    labels.set(node.upid, label);
    return label;
  };
  for (const node of table.nodes.values()) labelOf(node);
  return labels;
}

export function groupRun(table: ProcessTable): RunGroup {
  const end = table.endTs();
  const labels = labelProcesses(table);
  const meta = table.meta;
  const root = findRoot(table);
  const command = meta?.command ?? root?.argv ?? [];
  const name = meta?.run ?? meta?.pipeline ?? labelTool(command, root?.exe);

  const own: ProcessNode[] = [];
  let stepParents: ProcessNode[];
  if (root) {
    let top = root;
    own.push(top);
    for (;;) {
      const children = table.childrenOf(top);
      const only = children[0];
      if (children.length !== 1 || only === undefined || !isShellOrWrapper(top.argv, top.exe)) break;
      top = only;
      own.push(top);
    }
    stepParents = table.childrenOf(top);
  } else {
    stepParents = table.roots();
  }

  const steps = stepParents
    .sort((a, b) => a.startTs - b.startTs)
    .map((stepRoot, i): StepGroup => {
      const processes = table.subtree(stepRoot);
      const byLabel = new Map<string, ProcessNode[]>();
      for (const p of processes) {
        const label = labels.get(p.upid) ?? '?';
        const list = byLabel.get(label);
        if (list) list.push(p);
        else byLabel.set(label, [p]);
      }
      const tools = [...byLabel.entries()].map(([label, procs]) => ({
        label,
        processes: procs,
        agg: aggregate(procs, end),
      }));
      tools.sort((a, b) => a.agg.startTs - b.agg.startTs);
      const firstExec = stepRoot.execCount > 0 ? stepRoot : processes.find((p) => p.execCount > 0);
      const label = firstExec ? (labels.get(firstExec.upid) ?? '?') : (labels.get(stepRoot.upid) ?? '?');
      return { index: i + 1, label, root: stepRoot, processes, tools, agg: aggregate(processes, end) };
    });

  const all = [...table.nodes.values()];
  const run: RunGroup = { name, command, own, steps, agg: aggregate(all, end), labels };
  if (meta?.pipeline !== undefined) run.pipeline = meta.pipeline;
  if (root) run.root = root;
  return run;
}
