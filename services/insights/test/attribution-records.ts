// Attribution records (tasks.v1 payloads) for tests: valid run, step and task records with
// empty resources, each field overridable.
import type { AttributionChange, Resources, RunRecord, StepRecord, TaskRecord } from '@tracer/events';

export const emptyResources = (): Resources => ({
  wallNs: 0,
  cpuNs: 0,
  peakRssBytes: 0,
  maxProcessPeakRssBytes: 0,
  readBytes: 0,
  writeBytes: 0,
  storageReadBytes: 0,
  storageWriteBytes: 0,
  ioWaitNs: 0,
  netSendBytes: 0,
  netRecvBytes: 0,
  processCount: 1,
});

type Scoped = { tenant: string; host: string; id: string };

export const runRecord = (r: Scoped & Partial<RunRecord> & { pipeline: string }): RunRecord => ({
  name: r.id,
  engine: 'script',
  status: 'running',
  startTs: 0,
  endTs: null,
  exitCode: null,
  signal: null,
  rootUpid: null,
  rootPid: null,
  labelled: false,
  attributes: {},
  parentRunId: null,
  resources: emptyResources(),
  ...r,
});

export const stepRecord = (s: Scoped & Partial<StepRecord> & { runId: string; name: string }): StepRecord => ({
  status: 'running',
  taskCount: 1,
  failedTaskCount: 0,
  startTs: 0,
  endTs: null,
  resources: emptyResources(),
  ...s,
});

export const taskRecord = (
  t: Scoped & Partial<TaskRecord> & { runId: string; stepId: string; step: string; name: string },
): TaskRecord => ({
  engineTaskId: null,
  status: 'running',
  exitCode: null,
  signal: null,
  oomKilled: false,
  startTs: 0,
  endTs: null,
  queueNs: null,
  rootUpid: null,
  rootPid: null,
  workDir: null,
  attributes: {},
  resources: emptyResources(),
  ...t,
});

/** An upsert of the record on tasks.v1. */
export function upsert(entity: 'run', record: RunRecord, ts?: number): AttributionChange;
export function upsert(entity: 'step', record: StepRecord, ts?: number): AttributionChange;
export function upsert(entity: 'task', record: TaskRecord, ts?: number): AttributionChange;
export function upsert(entity: 'run' | 'step' | 'task', record: RunRecord | StepRecord | TaskRecord, ts = 0) {
  return { entity, op: 'upsert', ts, record } as AttributionChange;
}
