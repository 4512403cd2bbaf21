// Builds event streams for the core's unit tests: valid events (checked against the schemas)
// on a clock the test moves with `at(seconds)`.
import { type TelemetryEvent, validateEvent } from '@tracer/events';

export const T0 = 1_763_784_000_000_000_000;
const S = 1e9;

export interface ExecOpts {
  ppid?: number;
  cwd?: string;
  exe?: string;
  cgroupId?: string;
}

export function traceBuilder(start = T0) {
  let seq = 0;
  let now = start;
  const events: TelemetryEvent[] = [];
  const upids = new Map<number, string>();
  const env = () => ({ tenant: 't1', host: 'h1', agentId: 'a1', seq: ++seq, ts: now });
  const push = (e: Record<string, unknown>) => {
    const v = validateEvent(e);
    if (!v.ok) throw new Error(`test event invalid: ${v.reason}`);
    events.push(v.event);
  };
  const upid = (pid: number) => {
    const u = upids.get(pid);
    if (!u) throw new Error(`pid ${pid} was never exec'd in this test trace`);
    return u;
  };
  const api = {
    events,
    upid,
    get now() {
      return now;
    },
    at(seconds: number) {
      now = start + Math.round(seconds * S);
      return api;
    },
    start(command: string[], pipeline?: string) {
      push({ ...env(), type: 'trace.start', command, mode: 'bpf', ...(pipeline ? { pipeline } : {}) });
      return api;
    },
    hostInfo(cpus: number, memoryBytes: number) {
      push({ ...env(), type: 'host.info', hostname: 'h1', bootId: 'abcdef01-0000', kernel: '6.1', cpus, memoryBytes });
      return api;
    },
    /** A child that has not exec'd (yet): a subshell running a builtin, or before its exec. */
    fork(pid: number, o: { ppid: number }) {
      if (!upids.has(pid)) upids.set(pid, `abcdef01-${pid}-${now - start + 1}`);
      push({ ...env(), type: 'process.fork', pid, upid: upid(pid), ppid: o.ppid, parentUpid: upid(o.ppid) });
      return api;
    },
    exec(pid: number, argv: string[], o: ExecOpts = {}) {
      if (!upids.has(pid)) upids.set(pid, `abcdef01-${pid}-${now - start + 1}`);
      const parent = o.ppid !== undefined ? upids.get(o.ppid) : undefined;
      push({
        ...env(),
        type: 'process.exec',
        pid,
        upid: upid(pid),
        ppid: o.ppid ?? 1,
        ...(parent ? { parentUpid: parent } : {}),
        uid: 1000,
        exe: o.exe ?? (argv[0]!.startsWith('/') ? argv[0] : `/usr/bin/${argv[0]}`),
        argv,
        argvTruncated: false,
        cwd: o.cwd ?? '/work',
        ...(o.cgroupId ? { cgroupId: o.cgroupId } : {}),
      });
      return api;
    },
    sample(
      pid: number,
      s: {
        cpuS?: number;
        rssBytes?: number;
        readBytes?: number;
        writeBytes?: number;
        ioWaitS?: number;
        netSendBytes?: number;
        netRecvBytes?: number;
        state?: string;
        /** Cumulative seconds asleep in fsync-class calls. */
        syncS?: number;
        cgroup?: { limit?: number; usage?: number; memSome10?: number };
      },
    ) {
      push({
        ...env(),
        type: 'process.sample',
        pid,
        upid: upid(pid),
        cpuNs: Math.round((s.cpuS ?? 0) * S),
        rssBytes: s.rssBytes ?? 1e6,
        readBytes: s.readBytes ?? 0,
        writeBytes: s.writeBytes ?? 0,
        state: s.state ?? 'S',
        ...(s.ioWaitS !== undefined ? { ioWaitNs: Math.round(s.ioWaitS * S) } : {}),
        ...(s.netSendBytes !== undefined ? { netSendBytes: s.netSendBytes } : {}),
        ...(s.netRecvBytes !== undefined ? { netRecvBytes: s.netRecvBytes } : {}),
        ...(s.syncS !== undefined ? { syscalls: { sync: { count: 1, ns: Math.round(s.syncS * S) } } } : {}),
        ...(s.cgroup
          ? {
              cgroup: {
                ...(s.cgroup.limit !== undefined ? { memoryLimitBytes: s.cgroup.limit } : {}),
                ...(s.cgroup.usage !== undefined ? { memoryUsageBytes: s.cgroup.usage } : {}),
                ...(s.cgroup.memSome10 !== undefined ? { pressure: { memory: { some10: s.cgroup.memSome10 } } } : {}),
              },
            }
          : {}),
      });
      return api;
    },
    log(pid: number, text: string, stream: 'stdout' | 'stderr' = 'stderr') {
      push({ ...env(), type: 'log.chunk', pid, upid: upid(pid), stream, text });
      return api;
    },
    exit(
      pid: number,
      o: {
        code?: number;
        signal?: number;
        coreDumped?: boolean;
        peakRssBytes?: number;
        cpuS?: number;
        ioWaitS?: number;
        /** Seconds asleep in fsync-class calls over the whole life. */
        syncS?: number;
        /** The /proc fallback reaped it before reading its status. */
        unknown?: boolean;
      } = {},
    ) {
      push({
        ...env(),
        type: 'process.exit',
        ...(o.unknown ? { exitCodeUnknown: true } : {}),
        pid,
        upid: upid(pid),
        exitCode: o.code ?? 0,
        signal: o.signal ?? null,
        coreDumped: o.coreDumped ?? false,
        cpuUserNs: Math.round((o.cpuS ?? 0) * S),
        cpuSysNs: 0,
        peakRssBytes: o.peakRssBytes ?? 1e6,
        readBytes: 0,
        writeBytes: 0,
        ...(o.ioWaitS !== undefined ? { ioWaitNs: Math.round(o.ioWaitS * S) } : {}),
        ...(o.syncS !== undefined ? { syscalls: { sync: { count: 1, ns: Math.round(o.syncS * S) } } } : {}),
      });
      return api;
    },
    oom(pid: number, o: { limit?: number; usage?: number; rss?: number; constraint?: 'memcg' | 'global' } = {}) {
      push({
        ...env(),
        type: 'oom.kill',
        victimPid: pid,
        victimUpid: upid(pid),
        constraint: o.constraint ?? 'memcg',
        ...(o.limit !== undefined ? { memoryLimitBytes: o.limit } : {}),
        ...(o.usage !== undefined ? { memoryUsageBytes: o.usage } : {}),
        ...(o.rss !== undefined ? { victimRssBytes: o.rss } : {}),
      });
      return api;
    },
    syscallError(
      pid: number,
      syscall: string,
      errno: string,
      o: {
        path?: string;
        addr?: string;
        count?: number;
        mount?: string;
        flags?: number;
        firstS?: number;
        lastS?: number;
      } = {},
    ) {
      push({
        ...env(),
        type: 'syscall.error',
        pid,
        upid: upid(pid),
        syscall,
        errno,
        count: o.count ?? 1,
        ...(o.path ? { path: o.path } : {}),
        ...(o.addr ? { addr: o.addr } : {}),
        ...(o.mount ? { mount: o.mount } : {}),
        ...(o.flags !== undefined ? { flags: o.flags } : {}),
        ...(o.firstS !== undefined ? { firstTs: Math.round(o.firstS * S) } : {}),
        ...(o.lastS !== undefined ? { lastTs: Math.round(o.lastS * S) } : {}),
      });
      return api;
    },
    fileOpen(pid: number, path: string, error?: string, flags = 0) {
      push({ ...env(), type: 'file.open', pid, upid: upid(pid), path, flags, ...(error ? { error } : {}) });
      return api;
    },
    host(o: {
      busy?: number;
      load1?: number;
      used?: number;
      avail?: number;
      memSome10?: number;
      cpuSome10?: number;
      ioSome10?: number;
    }) {
      push({
        ...env(),
        type: 'host.sample',
        cpuBusyRatio: o.busy ?? 0.5,
        load1: o.load1 ?? 1,
        memoryUsedBytes: o.used ?? 4e9,
        memoryAvailableBytes: o.avail ?? 4e9,
        pressure: {
          ...(o.memSome10 !== undefined ? { memory: { some10: o.memSome10 } } : {}),
          ...(o.cpuSome10 !== undefined ? { cpu: { some10: o.cpuSome10 } } : {}),
          ...(o.ioSome10 !== undefined ? { io: { some10: o.ioSome10 } } : {}),
        },
      });
      return api;
    },
  };
  return api;
}
