// The contract between the attributor and one engine's detector (nextflow.ts, snakemake.ts,
// cwl.ts, argo-batch.ts, script.ts). A detector recognises the engine's run head and its
// task roots from process images, reads the engine's own output (log chunks of the head) and
// file facts, and changes names and statuses only through `AttributionOps`, so the attributor
// sees every change and publishes it.
import type { Engine, ExecutionStatus } from '@tracer/events';
import type { ToolMatch, ToolRules } from './tool-rules.ts';
import type { ExecImage, FileFact, ProcState, RunState, TaskState } from './types.ts';

export interface ExecContext {
  proc: ProcState;
  image: ExecImage;
  parent: ProcState | null;
  /** The runs the process is inside, outermost first (before this exec is attributed). */
  runs: RunState[];
  rules: ToolRules;
  /** The tool rules' reading of this image (shells and wrappers seen through). */
  tool: ToolMatch | null;
  getProc(upid: string): ProcState | undefined;
}

export interface RunMatch {
  pipeline: string;
  name: string;
  attributes?: Record<string, string>;
  /** Runs identified by the engine's id rather than a process (Argo workflow, Batch job). */
  key?: string;
  /** True when the run has no head process (Argo, Batch: tasks arrive in containers). */
  headless?: boolean;
  wants?: Array<{ path: string; maxBytes: number }>;
  engineState?: unknown;
}

export interface TaskMatch {
  step: string;
  name: string;
  engineTaskId?: string | null;
  workDir?: string | null;
  attributes?: Record<string, string>;
  /** The step name is a guess until the engine's log or a file fact says otherwise. */
  provisional?: boolean;
  queueNs?: number | null;
  wants?: Array<{ path: string; maxBytes: number }>;
  /** Not a new task: the process belongs to this existing task of the run. */
  join?: string;
}

export interface TaskRename {
  step?: string;
  name?: string;
  engineTaskId?: string | null;
  attributes?: Record<string, string>;
  provisional?: boolean;
  queueNs?: number | null;
}

export interface AttributionOps {
  /** Event time of what is being processed. */
  readonly ts: number;
  renameTask(task: TaskState, rename: TaskRename): void;
  /** The engine's verdict on how a task ended. */
  setTaskStatus(task: TaskState, status: ExecutionStatus, exitCode: number | null): void;
  /** A task the engine ran without a process of its own (Snakemake's `localrule all`). */
  createTask(run: RunState, key: string, match: TaskMatch, status: ExecutionStatus, startTs: number): TaskState;
  updateRun(run: RunState, update: { pipeline?: string; name?: string; attributes?: Record<string, string> }): void;
  want(run: RunState, path: string, maxBytes: number, glob?: { nearTs: number }): void;
  getProc(upid: string): ProcState | undefined;
}

export interface EngineDetector {
  readonly engine: Engine;
  /** Is this exec the head of a run of this engine? (Declines inside its own runs: job subprocesses.) */
  matchRun(ctx: ExecContext): RunMatch | null;
  /** Inside a run of this engine, does this exec start a task? Called only for processes in no task of the run. */
  matchTask(run: RunState, ctx: ExecContext): TaskMatch | null;
  /** Output of the run's head process (stdout/stderr chunks, in order). */
  onLog?(run: RunState, text: string, ops: AttributionOps): void;
  onFact?(run: RunState, fact: FileFact, ops: AttributionOps): void;
  /** A task's root process ended. */
  onTaskEnd?(run: RunState, task: TaskState, ops: AttributionOps): void;
  /** The run's head process ended. */
  onRunEnd?(run: RunState, ops: AttributionOps): void;
  /** A task was created from a process: a chance to match it with what the log said before. */
  onTaskStart?(run: RunState, task: TaskState, ops: AttributionOps): void;
}

/** Splits a stream of chunks into complete lines, keeping the tail for the next chunk. */
export function takeLines(buffer: { text: string }, chunk: string): string[] {
  buffer.text += chunk;
  const parts = buffer.text.split(/\r?\n/);
  buffer.text = parts.pop() ?? '';
  // Bound the partial line: a tool printing without newlines must not grow state forever.
  if (buffer.text.length > 65536) buffer.text = buffer.text.slice(-65536);
  return parts;
}

/** Value of an option (`-name x`, `--name=x`) in argv, if present. */
export function optionValue(argv: string[], names: string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (names.includes(a)) return argv[i + 1] ?? null;
    for (const n of names) if (n.startsWith('--') && a.startsWith(`${n}=`)) return a.slice(n.length + 1);
  }
  return null;
}

/** `2026-11-22T04:09:25Z` from ns since the epoch: the default run name. */
export function isoSeconds(ts: number): string {
  return new Date(Math.floor(ts / 1e6)).toISOString().replace(/\.\d+Z$/, 'Z');
}
