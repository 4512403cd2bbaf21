// The engine's vocabulary: what it knows about each process and the host, and the context
// every detector gets. State is plain data owned by the engine between steps.
import type {
  ErrorEntry,
  Insight,
  InsightKind,
  InsightSeverity,
  InsightState,
  OomKill,
  RootCauseCategory,
} from '@tracer/events';
import type { DetectorSettings, InsightsConfig } from './config.ts';
import type { LogCursor, LogFinding, Stream } from './log-analysis.ts';

export type { ErrorEntry, Insight, InsightKind, RootCauseCategory };

/** Where a process sits in pipeline > run > step > task, as attribution decided (all optional). */
export interface TaskRef {
  pipeline?: string;
  /** The run's engine (`nextflow`, `snakemake`, `toil`, `script`, ...). */
  engine?: string;
  runId?: string;
  stepId?: string;
  /** Step name: the key of its history and of per-step settings. */
  step?: string;
  taskId?: string;
  /** Stable across attempts of the same task (e.g. "FASTQC (sample1)"): what makes a retry. */
  taskKey?: string;
  tool?: string;
  /** The process is the task's root: its failure is the task's failure. */
  isTaskRoot?: boolean;
  /** The process is the run's root (the engine or the traced command): its time is the run's. */
  isRunRoot?: boolean;
}

export interface ProcessIdentity {
  pid: number;
  upid?: string;
  ppid: number;
  exe: string;
  argv: string[];
  cwd: string;
}

export interface InsightsOptions {
  config?: InsightsConfig;
  /**
   * Past durations (ns) per step key: `historyKey(pipeline, step)`, or the bare step name (the
   * tool key when no attribution) when the pipeline is not known.
   */
  history?: Record<string, number[]>;
  /** Run/step/task of a process, from the attribution core; called once per exec. */
  attribution?: (proc: ProcessIdentity) => TaskRef | undefined;
  /**
   * How far past a process's last sample the clock alone may extend a stall (ns). Unset (as
   * in `tracer run`): stalls are judged on samples only. The service sets it so no_progress
   * fires on its clock ticks while the agent sends nothing new about a stalled process.
   */
  stallClockNs?: number;
  /**
   * Forget failed processes and finished insights this long (ns) after they ended. Unset (as
   * in `tracer run`, where the final list is the output): kept for the trace's whole life. A
   * service that runs for weeks on a whole-host stream sets it; what it forgot is in its
   * database.
   */
  forgetAfterNs?: number;
}

export interface StreamState {
  cursor: LogCursor;
  /** Distinct findings in order (repeats folded), bounded. */
  findings: LogFinding[];
  findingIndex: Map<string, number>;
  /** The last lines, for context in evidence packets. */
  tail: Array<{ line: number; text: string; ts: number }>;
  lastTs: number;
}

export interface SyscallErrorRecord {
  syscall: string;
  errno: string;
  count: number;
  path?: string;
  addr?: string;
  /** The mount point holding `path` (ENOSPC, EDQUOT, EROFS): the filesystem. */
  mount?: string;
  /** O_* flags of a failed open. */
  flags?: number;
  firstTs: number;
  lastTs: number;
}

export interface ProcessRecord extends ProcessIdentity {
  key: string;
  parentKey?: string;
  comm?: string;
  /** Tool key: the program (or the script an interpreter ran), e.g. "bwa mem", "align.sh". */
  tool: string;
  startTs: number;
  endTs?: number;
  exit?: { code: number; signal: number | null; coreDumped: boolean; unknown: boolean };
  children: string[];
  task?: TaskRef;
  settings: DetectorSettings;
  // resources, from samples and the exit record
  samples: number;
  firstSampleTs?: number;
  lastSampleTs?: number;
  cpuNs: number;
  rssBytes: number;
  peakRssBytes: number;
  readBytes: number;
  writeBytes: number;
  ioWaitNs?: number;
  netSendBytes?: number;
  netRecvBytes?: number;
  state?: string;
  /** Time between samples spent in state D (estimate when the kernel gives no ioWaitNs). */
  dStateNs: number;
  /** Time between samples idle after network activity (no CPU, no disk, no output). */
  netIdleNs: number;
  lastNetTs?: number;
  lastProgressTs: number;
  lastOutputTs?: number;
  streams: Partial<Record<Stream, StreamState>>;
  syscallErrors: SyscallErrorRecord[];
  failedOpens: Array<{ path: string; error: string; count: number; ts: number; flags?: number }>;
  oom?: OomKill;
  /** The cgroup the process ran in (from its exec, else its parent's). */
  cgroupId?: string;
  /** Cumulative time asleep in syscalls by class (sync = fsync and kin), from samples and exit. */
  syscallNs?: Record<string, number>;
  /** Host conditions seen while the process was alive. */
  hostSeen?: {
    maxMemorySome10?: number;
    maxCpuSome10?: number;
    maxIoSome10?: number;
    minMemoryAvailableBytes?: number;
  };
  retryKey?: string;
  attempt?: number;
}

export interface HostState {
  cpus?: number;
  memoryBytes?: number;
  lastSampleTs?: number;
  memory?: Episode;
  cpu?: Episode;
  idle?: Episode;
  idleSinceTs?: number;
}

export interface Episode {
  id: string;
  startTs: number;
  /** Condition seen since this time (opens the insight once long enough). */
  lastTs: number;
  open: boolean;
  peak: number;
  affected: Set<string>;
}

export interface EngineState {
  processes: Map<string, ProcessRecord>;
  /** The live (or last) process for each pid, for events that carry only a pid. */
  byPid: Map<number, string>;
  insights: Map<string, Insight>;
  /** Failure insights by the process they were opened for, so late evidence can refine them. */
  failureOf: Map<string, string>;
  host: HostState;
  trace: { pipeline?: string; run?: string; rootPid?: number };
  attempts: Map<string, string[]>;
  lastTs: number;
  /** Processes whose evidence changed in the current step. */
  touched: Set<string>;
  /** Memory-pressure episodes per cgroup (PSI of the process's own cgroup). */
  cgroupMemory?: Map<string, Episode>;
}

export interface InsightDraft {
  kind: InsightKind;
  severity: InsightSeverity;
  state?: InsightState;
  startTs: number;
  endTs?: number;
  summary: string;
  evidence: Insight['evidence'];
  category?: RootCauseCategory;
  confidence?: number;
  errorEntries?: Array<ErrorEntry & { pid?: number }>;
  nextSteps?: string[];
}

/** What every detector is handed: the state, the clock and the way to report. */
export interface DetectorContext {
  state: EngineState;
  now: number;
  options: InsightsOptions;
  /** Creates or updates the insight with this id (changed ones are emitted at the end of the step). */
  upsert(id: string, proc: ProcessRecord | undefined, draft: InsightDraft): Insight;
  get(id: string): Insight | undefined;
  /** Changes fields of an existing insight (state, endTs, evidence), keeping what it concerns. */
  patch(
    id: string,
    fields: Partial<Pick<Insight, 'state' | 'endTs' | 'summary' | 'evidence' | 'severity'>>,
  ): Insight | undefined;
}
