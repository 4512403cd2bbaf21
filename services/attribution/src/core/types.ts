// The attribution core's own state and inputs. Records that leave the core are the
// @tracer/events attribution schemas; these are the working structures behind them.
import type { Engine, ExecutionStatus, TelemetryEvent } from '@tracer/events';
import type { PeakTracker, ProcCounters } from './resources.ts';
import type { ToolRules } from './tool-rules.ts';

/**
 * What an adapter read from disk for the core: the first bytes of a file the core asked for
 * (a Nextflow `.command.run` header, `.exitcode`, `.nextflow.log`, a Snakefile). `text` null =
 * the file does not exist (or could not be read). Traces do not carry file contents, so the
 * core works without facts and gets better names with them.
 */
export interface FileFact {
  type: 'file.fact';
  path: string;
  text: string | null;
  ts?: number;
  /** For a glob want: the file that was read. */
  resolvedPath?: string;
}

/** A file the core would like to read, produced in an attribution result. */
export interface FileWant {
  path: string;
  maxBytes: number;
  /** For logs and debugging: which detector asks and why. */
  reason: string;
  /** `path` ends in `*<suffix>`: read the matching file last changed nearest `nearTs`. */
  glob?: boolean;
  nearTs?: number;
}

export type AttributionInput = TelemetryEvent | FileFact;

export interface ExecImage {
  ts: number;
  exe: string;
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  containerId: string | null;
  cgroupId: string | null;
  uid: number;
}

export interface ProcState {
  upid: string;
  pid: number;
  ppid: number;
  parentUpid: string | null;
  startTs: number;
  endTs: number | null;
  /** The program it runs: its own last exec, or its parent's while it only forked. */
  image: ExecImage | null;
  execCount: number;
  /** Nearest ancestor-or-self that exec'd: the command this process belongs to. */
  commandUpid: string;
  children: string[];
  /** Entity ids (runs, steps, tasks, tool executions) whose figures include this process. */
  memberships: Set<string>;
  /** Innermost run, and the task it has in each run it belongs to. */
  runId: string | null;
  taskByRun: Map<string, string>;
  toolId: string | null;
  counters: ProcCounters;
  everSampled: boolean;
  /**
   * The parent's RSS when it forked this process. The kernel's ru_maxrss (signal->maxrss) of a
   * process that exec'd counts the image it replaced, i.e. the forked copy of its parent: a
   * `samtools index` forked from a 75 MiB Python reports 75 MiB. An exit peak within this is
   * not the program's own and is not trusted (see resources.ts).
   */
  inheritedRssBytes: number;
  /** Largest RSS sampled since the last exec. */
  sampledPeakSinceExec: number;
  /** The exit peak was the inherited one: the program's own peak is unknown beyond samples. */
  peakInherited: boolean;
  /** Figures from /proc sampling (no BPF): approximate. */
  approximate: boolean;
  exit: { code: number | null; signal: number | null } | null;
  oomKilled: boolean;
}

interface EntityBase {
  id: string;
  startTs: number;
  endTs: number | null;
  procs: Set<string>;
  peak: PeakTracker;
}

export interface RunState extends EntityBase {
  kind: 'run';
  engine: Engine;
  pipeline: string;
  name: string;
  labelled: boolean;
  status: ExecutionStatus;
  exitCode: number | null;
  signal: number | null;
  /** The trace root for script runs; the engine process otherwise (null for Argo/Batch). */
  rootUpid: string | null;
  headUpid: string | null;
  attributes: Record<string, string>;
  parentRunId: string | null;
  steps: Map<string, StepState>;
  tasks: Map<string, TaskState>;
  /** Owned by the run's detector. */
  engineState: unknown;
}

export interface StepState extends EntityBase {
  kind: 'step';
  runId: string;
  name: string;
  /** Named by a guess (the first tool) until the engine tells the real name. */
  provisional: boolean;
}

export interface TaskState extends EntityBase {
  kind: 'task';
  runId: string;
  stepName: string;
  name: string;
  engineTaskId: string | null;
  status: ExecutionStatus;
  exitCode: number | null;
  signal: number | null;
  oomKilled: boolean;
  /** The engine said how the task ended (Nextflow .exitcode, Snakemake's log): wins over the exit. */
  statusFromEngine: boolean;
  rootUpid: string | null;
  rootPid: number | null;
  workDir: string | null;
  queueNs: number | null;
  attributes: Record<string, string>;
  tools: string[];
}

export interface ToolState extends EntityBase {
  kind: 'tool';
  runId: string;
  taskId: string | null;
  tool: string;
  subcommand: string | null;
  name: string;
  known: boolean;
  status: ExecutionStatus;
  exitCode: number | null;
  signal: number | null;
  rootUpid: string;
  upids: string[];
  pids: number[];
  argv: string[];
}

export type EntityState = RunState | StepState | TaskState | ToolState;

export interface TraceInfo {
  rootPid: number | null;
  pipeline: string | null;
  run: string | null;
  command: string[];
  ts: number;
}

export interface AttributionState {
  tenant: string;
  host: string;
  rules: ToolRules;
  trace: TraceInfo | null;
  rootUpid: string | null;
  procs: Map<string, ProcState>;
  /** Live (not yet exited) process per pid, for events that name only a pid. */
  livePids: Map<number, string>;
  entities: Map<string, EntityState>;
  runs: Map<string, RunState>;
  /** Paths asked for, and the runs that want each. */
  wanted: Map<string, Set<string>>;
  lastTs: number;
  /** Entities changed in the batch being processed. */
  dirty: Set<string>;
  deleted: Map<string, EntityState>;
  pendingWants: FileWant[];
}
