// The event schemas of DESIGN.md section 4: one TypeBox definition per event, from which the
// TypeScript type, the runtime validator and the JSON Schema (fastify, OpenAPI) all derive.
// A breaking change is a new version (telemetry.raw.v2), never an edit in place.
import { type Static, type TSchema, Type } from '@sinclair/typebox';
import { Insight as InsightFields } from './insights.ts';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Bytes = Type.Integer({ minimum: 0, description: 'bytes' });
const Ns = Type.Integer({ minimum: 0, description: 'nanoseconds' });

/** Process identity safe against pid reuse: `<boot id prefix>-<pid>-<start time ns since boot>`. */
export const Upid = Type.String({ pattern: '^[0-9a-f]{8}-[0-9]+-[0-9]+$', maxLength: 64 });

export const Envelope = Type.Object({
  tenant: Type.String({ minLength: 1, maxLength: 128 }),
  host: Type.String({ minLength: 1, maxLength: 255 }),
  agentId: Type.String({ minLength: 1, maxLength: 128 }),
  /** Per-agent sequence number: the dedupe key with tenant, host and agentId; gaps show loss. */
  seq: Type.Integer({ minimum: 0 }),
  /** Wall-clock time in ns since the Unix epoch (JSON numbers keep it to about 256 ns). */
  ts: Ns,
});
export type Envelope = Static<typeof Envelope>;

const event = <K extends string, P extends Record<string, TSchema>>(type: K, properties: P) =>
  Type.Object({ ...Envelope.properties, type: Type.Literal(type), ...properties }, { $id: type });

/** Fields every process-scoped event carries. */
const processRef = {
  pid: Type.Integer({ minimum: 0 }),
  upid: Upid,
  /** True when the record comes from /proc sampling (no BPF): times and peaks are approximate. */
  sampled: Type.Optional(Type.Boolean()),
};

const Pressure = Type.Object({
  /** PSI "some" avg10 in percent. */
  some10: Type.Number({ minimum: 0 }),
  full10: Type.Optional(Type.Number({ minimum: 0 })),
});

/** How often and how long a process's threads slept (blocked) inside syscalls, by class,
 * summed over threads: enough to say "blocked in fsync 80% of the time". Time on CPU in
 * the kernel is cpuSysNs; calls that never blocked are not counted. */
const SyscallClassTime = Type.Object({
  /** Times a thread went to sleep inside a call of this class. */
  count: Type.Integer({ minimum: 0 }),
  /** Time asleep there. */
  ns: Ns,
});
export const SyscallClasses = Type.Object({
  file: Type.Optional(SyscallClassTime),
  net: Type.Optional(SyscallClassTime),
  memory: Type.Optional(SyscallClassTime),
  process: Type.Optional(SyscallClassTime),
  /** fsync, fdatasync, sync, syncfs, sync_file_range, msync */
  sync: Type.Optional(SyscallClassTime),
  /** futex, poll/select/epoll, nanosleep, wait4 */
  wait: Type.Optional(SyscallClassTime),
  other: Type.Optional(SyscallClassTime),
});

export const TraceStart = event('trace.start', {
  command: Type.Array(Type.String()),
  pipeline: Type.Optional(Type.String()),
  run: Type.Optional(Type.String()),
  rootPid: Type.Optional(Type.Integer()),
  mode: Type.Union([Type.Literal('bpf'), Type.Literal('proc')]),
  /** Why the agent fell back to /proc, in words a user can act on. */
  fallbackReason: Type.Optional(Type.String()),
});

export const ProcessFork = event('process.fork', {
  ...processRef,
  ppid: Type.Integer({ minimum: 0 }),
  parentUpid: Type.Optional(Upid),
});

export const ProcessExec = event('process.exec', {
  ...processRef,
  ppid: Type.Integer({ minimum: 0 }),
  parentUpid: Type.Optional(Upid),
  uid: Type.Integer({ minimum: 0 }),
  exe: Type.String({ maxLength: 4096 }),
  argv: Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 256 }),
  /** Set when argv had more (or longer) arguments than the capture bound. */
  argvTruncated: Type.Boolean(),
  cwd: Type.String({ maxLength: 4096 }),
  comm: Type.Optional(Type.String({ maxLength: 16 })),
  /** cgroup v2 id, or the memory cgroup's inode on v1 hosts (decimal string: a u64). */
  cgroupId: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  containerId: Type.Optional(Type.String()),
  /** Allowlisted environment variables only (AWS_BATCH_JOB_ID, NXF_TASK_WORKDIR, ...). */
  env: Type.Optional(Type.Record(Type.String(), Type.String())),
});

export const ProcessExit = event('process.exit', {
  ...processRef,
  exitCode: Type.Integer({ minimum: 0, maximum: 255 }),
  /** Set by the /proc fallback when the process was reaped before its status could be read. */
  exitCodeUnknown: Type.Optional(Type.Boolean()),
  /** Set by the /proc fallback when the process ended before its first poll: counters are 0, not measured. */
  countersUnknown: Type.Optional(Type.Boolean()),
  signal: Nullable(Type.Integer({ minimum: 1, maximum: 64 })),
  coreDumped: Type.Boolean(),
  durationNs: Type.Optional(Ns),
  cpuUserNs: Ns,
  cpuSysNs: Ns,
  /** The kernel's RSS high-water mark for the process (what getrusage's ru_maxrss reports). */
  peakRssBytes: Bytes,
  /** RSS high-water mark of the program image since the process's last exec alone. Unlike
   * peakRssBytes it excludes the memory the process had before exec (the forking parent's
   * image), so it is the tool's own peak. Absent when the agent could not observe it. */
  execPeakRssBytes: Type.Optional(Bytes),
  /** Bytes through read/write-family syscalls (the process's rchar/wchar). */
  readBytes: Bytes,
  writeBytes: Bytes,
  /** Bytes that reached the block layer (storage read_bytes/write_bytes). */
  storageReadBytes: Type.Optional(Bytes),
  storageWriteBytes: Type.Optional(Bytes),
  ioWaitNs: Type.Optional(Ns),
  netSendBytes: Type.Optional(Bytes),
  netRecvBytes: Type.Optional(Bytes),
  voluntaryCtxSwitches: Type.Optional(Type.Integer({ minimum: 0 })),
  involuntaryCtxSwitches: Type.Optional(Type.Integer({ minimum: 0 })),
  /** stdout/stderr bytes the capture policy left out (stdout into a file is output data). */
  outputSkippedBytes: Type.Optional(Bytes),
  /** Over the process's whole life (eBPF only). */
  syscalls: Type.Optional(SyscallClasses),
});

export const ProcessSample = event('process.sample', {
  ...processRef,
  /** Cumulative CPU time (user + system) so far. */
  cpuNs: Ns,
  rssBytes: Bytes,
  readBytes: Bytes,
  writeBytes: Bytes,
  ioWaitNs: Type.Optional(Ns),
  netSendBytes: Type.Optional(Bytes),
  netRecvBytes: Type.Optional(Bytes),
  /** /proc state letter: R running, S sleeping, D uninterruptible (I/O), Z zombie, T stopped. */
  state: Type.String({ maxLength: 1 }),
  threads: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Cumulative so far (eBPF only). */
  syscalls: Type.Optional(SyscallClasses),
  /** The process's cgroup: memory limit and usage (its memory controller, v1 or v2) and
   * pressure (PSI of its unified cgroup, where the kernel has it). */
  cgroup: Type.Optional(
    Type.Object({
      memoryLimitBytes: Type.Optional(Bytes),
      memoryUsageBytes: Type.Optional(Bytes),
      pressure: Type.Optional(
        Type.Object({
          cpu: Type.Optional(Pressure),
          memory: Type.Optional(Pressure),
          io: Type.Optional(Pressure),
        }),
      ),
    }),
  ),
});

export const OomKill = event('oom.kill', {
  /** The process the kernel chose and killed, never the task that triggered the kill. */
  victimPid: Type.Integer({ minimum: 0 }),
  victimUpid: Type.Optional(Upid),
  victimComm: Type.Optional(Type.String()),
  triggerPid: Type.Optional(Type.Integer({ minimum: 0 })),
  constraint: Type.Union([
    Type.Literal('memcg'),
    Type.Literal('global'),
    Type.Literal('cpuset'),
    Type.Literal('mempolicy'),
  ]),
  cgroupId: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  memoryLimitBytes: Type.Optional(Bytes),
  memoryUsageBytes: Type.Optional(Bytes),
  victimRssBytes: Type.Optional(Bytes),
});

export const FileOpen = event('file.open', {
  ...processRef,
  path: Type.String({ maxLength: 4096 }),
  flags: Type.Integer(),
  /** The errno name when the open failed (ENOENT, EACCES, ...). */
  error: Type.Optional(Type.String()),
});

export const LogChunk = event('log.chunk', {
  ...processRef,
  stream: Type.Union([Type.Literal('stdout'), Type.Literal('stderr')]),
  text: Type.String({ maxLength: 65536 }),
  /** Bytes of this process's output not captured because of the per-second bound. */
  droppedBytes: Type.Optional(Bytes),
});

export const SyscallError = event('syscall.error', {
  ...processRef,
  syscall: Type.String(),
  errno: Type.String({ pattern: '^E[A-Z0-9]+$' }),
  count: Type.Integer({ minimum: 1 }),
  path: Type.Optional(Type.String({ maxLength: 4096 })),
  addr: Type.Optional(Type.String()),
  /** The mount point holding `path` (ENOSPC, EDQUOT, EROFS, EIO, EFBIG): the filesystem. */
  mount: Type.Optional(Type.String({ maxLength: 4096 })),
  /** O_* flags of a failed open: O_RDONLY (an input) vs O_WRONLY/O_CREAT (an output). */
  flags: Type.Optional(Type.Integer()),
  firstTs: Type.Optional(Ns),
  lastTs: Type.Optional(Ns),
});

export const ContainerStart = event('container.start', {
  containerId: Type.String(),
  cgroupId: Type.String({ pattern: '^[0-9]+$' }),
  runtime: Type.Optional(Type.String()),
  image: Type.Optional(Type.String()),
  pod: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.String()),
});

export const ContainerStop = event('container.stop', {
  containerId: Type.String(),
  cgroupId: Type.String({ pattern: '^[0-9]+$' }),
});

export const HostInfo = event('host.info', {
  hostname: Type.String(),
  bootId: Type.String(),
  kernel: Type.String(),
  cpus: Type.Integer({ minimum: 1 }),
  memoryBytes: Bytes,
  cloud: Type.Optional(Type.String()),
  instanceId: Type.Optional(Type.String()),
  instanceType: Type.Optional(Type.String()),
  region: Type.Optional(Type.String()),
});

export const HostSample = event('host.sample', {
  cpuBusyRatio: Type.Number({ minimum: 0, maximum: 1 }),
  load1: Type.Number({ minimum: 0 }),
  memoryUsedBytes: Bytes,
  memoryAvailableBytes: Bytes,
  diskUsedBytes: Type.Optional(Bytes),
  diskTotalBytes: Type.Optional(Bytes),
  /** Cumulative bytes over all non-loopback interfaces since boot. */
  netRecvBytes: Type.Optional(Bytes),
  netSendBytes: Type.Optional(Bytes),
  pressure: Type.Optional(
    Type.Object({
      cpu: Type.Optional(Pressure),
      memory: Type.Optional(Pressure),
      io: Type.Optional(Pressure),
    }),
  ),
});

export const AgentStats = event('agent.stats', {
  mode: Type.Union([Type.Literal('bpf'), Type.Literal('proc')]),
  eventsSent: Type.Integer({ minimum: 0 }),
  /** Records the kernel side could not reserve ring-buffer space for. */
  droppedKernel: Type.Integer({ minimum: 0 }),
  /** Events user space turned away (bounded queues, spool eviction). */
  droppedUser: Type.Integer({ minimum: 0 }),
  spooled: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** An insight (packages/events/src/insights.ts) as it is appended to a trace or published. */
export const InsightEvent = event('insight', InsightFields.properties);

/** Every event kind, by its `type`. */
export const eventSchemas = {
  'trace.start': TraceStart,
  'process.fork': ProcessFork,
  'process.exec': ProcessExec,
  'process.exit': ProcessExit,
  'process.sample': ProcessSample,
  'oom.kill': OomKill,
  'file.open': FileOpen,
  'log.chunk': LogChunk,
  'syscall.error': SyscallError,
  'container.start': ContainerStart,
  'container.stop': ContainerStop,
  'host.info': HostInfo,
  'host.sample': HostSample,
  'agent.stats': AgentStats,
  insight: InsightEvent,
} as const;

export type EventType = keyof typeof eventSchemas;
export const eventTypes = Object.keys(eventSchemas) as EventType[];

export const TelemetryEvent = Type.Union(Object.values(eventSchemas));
export type TelemetryEvent = Static<typeof TelemetryEvent>;
/** The event of one type, e.g. `EventOf<'process.exit'>`. */
export type EventOf<K extends EventType> = Static<(typeof eventSchemas)[K]>;
/** An event's own fields, without the envelope: what a source yields before stamping. */
export type PayloadOf<K extends EventType> = Omit<EventOf<K>, keyof Envelope>;

export type TraceStart = Static<typeof TraceStart>;
export type ProcessFork = Static<typeof ProcessFork>;
export type ProcessExec = Static<typeof ProcessExec>;
export type ProcessExit = Static<typeof ProcessExit>;
export type ProcessSample = Static<typeof ProcessSample>;
export type OomKill = Static<typeof OomKill>;
export type FileOpen = Static<typeof FileOpen>;
export type LogChunk = Static<typeof LogChunk>;
export type SyscallError = Static<typeof SyscallError>;
export type ContainerStart = Static<typeof ContainerStart>;
export type ContainerStop = Static<typeof ContainerStop>;
export type HostInfo = Static<typeof HostInfo>;
export type HostSample = Static<typeof HostSample>;
export type AgentStats = Static<typeof AgentStats>;
