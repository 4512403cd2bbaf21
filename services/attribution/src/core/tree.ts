// The run > step > task > tool tree of a trace, as data (`tracer trace tree --json`) and as
// text for a terminal. Built from the attributor's state; no I/O.
import { type ExecutionStatus, type Resources, SIGPIPE, signalName } from '@tracer/events';
import { runRecord, stepRecord, taskRecord, toolRecord } from './attributor.ts';
import type { AttributionState, ToolState } from './types.ts';

export interface TreeTool {
  name: string;
  tool: string;
  subcommand: string | null;
  known: boolean;
  pids: number[];
  status: ExecutionStatus;
  exitCode: number | null;
  signal: number | null;
  resources: Resources;
}

export interface TreeTask {
  id: string;
  name: string;
  engineTaskId: string | null;
  status: ExecutionStatus;
  exitCode: number | null;
  signal: number | null;
  oomKilled: boolean;
  startTs: number;
  endTs: number | null;
  queueNs: number | null;
  workDir: string | null;
  resources: Resources;
  tools: TreeTool[];
}

export interface TreeStep {
  name: string;
  status: ExecutionStatus;
  taskCount: number;
  resources: Resources;
  tasks: TreeTask[];
}

export interface TreeRun {
  id: string;
  pipeline: string;
  name: string;
  engine: string;
  status: ExecutionStatus;
  exitCode: number | null;
  startTs: number;
  endTs: number | null;
  parentRunId: string | null;
  attributes: Record<string, string>;
  resources: Resources;
  steps: TreeStep[];
}

export interface TraceTree {
  runs: TreeRun[];
}

export function buildTree(state: AttributionState): TraceTree {
  const runs = [...state.runs.values()].sort((a, b) => a.startTs - b.startTs);
  return {
    runs: runs.map((run) => {
      const r = runRecord(state, run);
      const tasks = [...run.tasks.values()].sort((a, b) => a.startTs - b.startTs);
      const stepOrder = [...new Set(tasks.map((t) => t.stepName))];
      return {
        id: r.id,
        pipeline: r.pipeline,
        name: r.name,
        engine: r.engine,
        status: r.status,
        exitCode: r.exitCode,
        startTs: r.startTs,
        endTs: r.endTs,
        parentRunId: r.parentRunId,
        attributes: r.attributes,
        resources: r.resources,
        steps: stepOrder.map((name) => {
          const step = run.steps.get(name)!;
          const s = stepRecord(state, run, step);
          return {
            name,
            status: s.status,
            taskCount: s.taskCount,
            resources: s.resources,
            tasks: tasks
              .filter((t) => t.stepName === name)
              .map((task) => {
                const t = taskRecord(state, run, task);
                return {
                  id: t.id,
                  name: t.name,
                  engineTaskId: t.engineTaskId,
                  status: t.status,
                  exitCode: t.exitCode,
                  signal: t.signal,
                  oomKilled: t.oomKilled,
                  startTs: t.startTs,
                  endTs: t.endTs,
                  queueNs: t.queueNs,
                  workDir: t.workDir,
                  resources: t.resources,
                  tools: task.tools.map((id) => {
                    const x = toolRecord(state, state.entities.get(id) as ToolState);
                    return {
                      name: x.name,
                      tool: x.tool,
                      subcommand: x.subcommand,
                      known: x.known,
                      pids: x.pids,
                      status: x.status,
                      exitCode: x.exitCode,
                      signal: x.signal,
                      resources: x.resources,
                    };
                  }),
                };
              }),
          };
        }),
      };
    }),
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[i]}`;
}

export function formatDuration(ns: number): string {
  const s = ns / 1e9;
  if (s < 1) return `${Math.round(s * 1000)}ms`;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function figures(r: Resources): string {
  // `+?`: some processes' own peak is unknown (their kernel peak was the parent's image).
  const unknown = r.peakRssUnknownProcessCount ? '+?' : '';
  const parts = [
    `wall ${formatDuration(r.wallNs)}`,
    `cpu ${formatDuration(r.cpuNs)}`,
    `peak ${formatBytes(r.peakRssBytes)}${unknown}`,
  ];
  if (r.readBytes + r.writeBytes > 0) parts.push(`io ${formatBytes(r.readBytes)}/${formatBytes(r.writeBytes)}`);
  if (r.ioWaitNs > 0) parts.push(`iowait ${formatDuration(r.ioWaitNs)}`);
  if (r.netSendBytes + r.netRecvBytes > 0)
    parts.push(`net ${formatBytes(r.netRecvBytes)}/${formatBytes(r.netSendBytes)}`);
  parts.push(`${r.processCount} proc`);
  return parts.join(' · ');
}

function statusText(
  status: ExecutionStatus,
  exitCode: number | null,
  signal: number | null = null,
  oom = false,
): string {
  if (status === 'running') return 'running';
  if (oom) return 'killed (OOM)';
  if (signal !== null) return `killed (${signalName(signal)})`;
  return exitCode !== null && exitCode !== 0 ? `${status} (exit ${exitCode})` : status;
}

/** The tree as lines for a terminal. */
export function renderTree(tree: TraceTree): string {
  const out: string[] = [];
  for (const run of tree.runs) {
    const nested = run.parentRunId ? ` (started by ${run.parentRunId})` : '';
    out.push(`${run.engine} run ${run.pipeline} / ${run.name} · ${statusText(run.status, run.exitCode)}${nested}`);
    out.push(`  ${figures(run.resources)}`);
    run.steps.forEach((step, si) => {
      const lastStep = si === run.steps.length - 1;
      const sp = lastStep ? '└─ ' : '├─ ';
      const sc = lastStep ? '   ' : '│  ';
      const failed = step.tasks.filter((t) => t.status === 'failed' || t.status === 'killed').length;
      const counts = `${step.taskCount} task${step.taskCount === 1 ? '' : 's'}${failed ? `, ${failed} failed` : ''}`;
      out.push(`${sp}${step.name} · ${step.status} · ${counts} · ${figures(step.resources)}`);
      step.tasks.forEach((task, ti) => {
        const lastTask = ti === step.tasks.length - 1;
        const tp = sc + (lastTask ? '└─ ' : '├─ ');
        const tc = sc + (lastTask ? '   ' : '│  ');
        const id = task.engineTaskId && !task.name.includes(task.engineTaskId) ? ` [${task.engineTaskId}]` : '';
        out.push(
          `${tp}${task.name}${id} · ${statusText(task.status, task.exitCode, task.signal, task.oomKilled)} · ${figures(task.resources)}`,
        );
        task.tools.forEach((tool, xi) => {
          const lastTool = xi === task.tools.length - 1;
          const pids = tool.pids.length > 3 ? `${tool.pids.slice(0, 3).join(',')},…` : tool.pids.join(',');
          const st =
            tool.signal === SIGPIPE
              ? ' · stopped by SIGPIPE (its reader closed the pipe)'
              : tool.status === 'succeeded'
                ? ''
                : ` · ${statusText(tool.status, tool.exitCode, tool.signal)}`;
          const peak = `${formatBytes(tool.resources.peakRssBytes)}${tool.resources.peakRssUnknownProcessCount ? '+?' : ''}`;
          out.push(
            `${tc}${lastTool ? '└─ ' : '├─ '}${tool.name} (pid ${pids})${st} · cpu ${formatDuration(tool.resources.cpuNs)} · peak ${peak}`,
          );
        });
      });
    });
  }
  return out.join('\n');
}
