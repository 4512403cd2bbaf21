// Attribution records (DESIGN.md sections 1 and 7): what the attribution core makes of a process
// tree. pipeline > run > step > task > tool execution > process. The same records are the rows
// services/attribution writes and the payload of the `tasks.v1` topic, so `tracer run`, the
// database and the API all speak one shape.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Upid } from './schemas.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Bytes = Type.Integer({ minimum: 0, description: 'bytes' });
const Ns = Type.Integer({ minimum: 0, description: 'nanoseconds' });
/** Wall-clock ns since the Unix epoch, like the envelope's `ts`. */
const Ts = Type.Integer({ minimum: 0, description: 'ns since the Unix epoch' });

export const Engine = Type.Union([
  Type.Literal('nextflow'),
  Type.Literal('snakemake'),
  Type.Literal('cwltool'),
  Type.Literal('toil'),
  Type.Literal('argo'),
  Type.Literal('aws-batch'),
  Type.Literal('script'),
]);
export type Engine = Static<typeof Engine>;

/** Live state of a run, task or tool execution. `killed` = ended by a signal (OOM included). */
export const ExecutionStatus = Type.Union([
  Type.Literal('running'),
  Type.Literal('succeeded'),
  Type.Literal('failed'),
  Type.Literal('killed'),
]);
export type ExecutionStatus = Static<typeof ExecutionStatus>;

/**
 * Resource use of a set of processes (a task, a step, a run, a tool execution). Counters are
 * sums over the processes; `peakRssBytes` is the largest simultaneous sum (see the attribution
 * README for the method and its limits), never the sum of per-process peaks.
 */
export const Resources = Type.Object({
  /** First start to last end; up to the latest event while still running. */
  wallNs: Ns,
  cpuNs: Ns,
  peakRssBytes: Bytes,
  /** The largest single-process kernel high-water mark (a lower bound of peakRssBytes). */
  maxProcessPeakRssBytes: Bytes,
  readBytes: Bytes,
  writeBytes: Bytes,
  storageReadBytes: Bytes,
  storageWriteBytes: Bytes,
  ioWaitNs: Ns,
  netSendBytes: Bytes,
  netRecvBytes: Bytes,
  processCount: Type.Integer({ minimum: 0 }),
  /** Processes whose figures come from /proc sampling only (approximate). */
  sampledProcessCount: Type.Optional(Type.Integer({ minimum: 0 })),
  /**
   * Processes whose own peak is unknown beyond their samples: the kernel's high-water mark
   * they ended with was the image they replaced by exec (a fork of a larger parent).
   */
  peakRssUnknownProcessCount: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type Resources = Static<typeof Resources>;

const scope = {
  tenant: Type.String({ minLength: 1, maxLength: 128 }),
  host: Type.String({ minLength: 1, maxLength: 255 }),
};

export const RunRecord = Type.Object({
  ...scope,
  /** Stable id: `run:<root upid>` or, for runs spanning hosts, the engine's own id. */
  id: Type.String(),
  /** e.g. nf-core/rnaseq, the Snakefile's folder, the script name. */
  pipeline: Type.String(),
  /** The engine's run name (nextflow -name, a label) or one derived from the start time. */
  name: Type.String(),
  engine: Engine,
  status: ExecutionStatus,
  startTs: Ts,
  endTs: Nullable(Ts),
  exitCode: Nullable(Type.Integer()),
  signal: Nullable(Type.Integer()),
  rootUpid: Nullable(Upid),
  rootPid: Nullable(Type.Integer()),
  /** Where each name came from: a user label wins over any detector. */
  labelled: Type.Boolean(),
  /** Engine facts: session id, Snakefile, launch dir, Argo workflow, Batch job queue... */
  attributes: Type.Record(Type.String(), Type.String()),
  /** The run this one was started from (an engine launched by a script run). */
  parentRunId: Nullable(Type.String()),
  resources: Resources,
});
export type RunRecord = Static<typeof RunRecord>;

export const StepRecord = Type.Object({
  ...scope,
  /** `<run id>/<step name>` */
  id: Type.String(),
  runId: Type.String(),
  name: Type.String(),
  status: ExecutionStatus,
  taskCount: Type.Integer({ minimum: 0 }),
  failedTaskCount: Type.Integer({ minimum: 0 }),
  startTs: Ts,
  endTs: Nullable(Ts),
  resources: Resources,
});
export type StepRecord = Static<typeof StepRecord>;

export const TaskRecord = Type.Object({
  ...scope,
  id: Type.String(),
  runId: Type.String(),
  stepId: Type.String(),
  step: Type.String(),
  /** e.g. `FASTQC (sample1)`, `bwa_map (sample=A)` */
  name: Type.String(),
  /** The engine's own task id: Nextflow work-dir hash, Snakemake job id, Batch job id. */
  engineTaskId: Nullable(Type.String()),
  status: ExecutionStatus,
  exitCode: Nullable(Type.Integer()),
  signal: Nullable(Type.Integer()),
  /** The kernel OOM killer ended a process of this task. */
  oomKilled: Type.Boolean(),
  startTs: Ts,
  endTs: Nullable(Ts),
  /** Submission to start, when the engine tells it. */
  queueNs: Nullable(Ns),
  rootUpid: Nullable(Upid),
  rootPid: Nullable(Type.Integer()),
  workDir: Nullable(Type.String()),
  attributes: Type.Record(Type.String(), Type.String()),
  resources: Resources,
});
export type TaskRecord = Static<typeof TaskRecord>;

export const ToolExecutionRecord = Type.Object({
  ...scope,
  id: Type.String(),
  runId: Type.String(),
  taskId: Nullable(Type.String()),
  /** The tool as the rules name it (`bwa`, `samtools`, `gatk`, `picard`), or the exe basename. */
  tool: Type.String(),
  subcommand: Nullable(Type.String()),
  /** `tool subcommand`, what the tree prints. */
  name: Type.String(),
  /** False when no rule matched and the name is the executable's. */
  known: Type.Boolean(),
  status: ExecutionStatus,
  exitCode: Nullable(Type.Integer()),
  signal: Nullable(Type.Integer()),
  startTs: Ts,
  endTs: Nullable(Ts),
  pids: Type.Array(Type.Integer({ minimum: 0 })),
  upids: Type.Array(Upid),
  argv: Type.Array(Type.String()),
  resources: Resources,
});
export type ToolExecutionRecord = Static<typeof ToolExecutionRecord>;

const change = <E extends string, R extends TSchema>(entity: E, recordSchema: R) =>
  Type.Object({
    entity: Type.Literal(entity),
    /** `delete` only for a provisional step left empty when its tasks moved to the real one. */
    op: Type.Union([Type.Literal('upsert'), Type.Literal('delete')]),
    /** Event time (ns since the epoch) of the change. */
    ts: Ts,
    record: recordSchema,
  });

export const RunChange = change('run', RunRecord);
export const StepChange = change('step', StepRecord);
export const TaskChange = change('task', TaskRecord);
export const ToolChange = change('tool', ToolExecutionRecord);

/** One message of the `tasks.v1` topic: a new state of one record, keyed by tenant/host. */
export const AttributionChange = Type.Union([RunChange, StepChange, TaskChange, ToolChange], {
  $id: 'tasks.v1',
});
export type AttributionChange = Static<typeof AttributionChange>;
export type RunChange = Static<typeof RunChange>;
export type StepChange = Static<typeof StepChange>;
export type TaskChange = Static<typeof TaskChange>;
export type ToolChange = Static<typeof ToolChange>;
