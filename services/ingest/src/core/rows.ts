// Events to table rows, with no I/O. Column names are the tables' own (migrations
// 20261122040000000_foundation and 20261122060000000_ingest); times travel as integer
// microseconds since the epoch (`*_us`), PostgreSQL's own timestamp precision.
import type { EventOf, TelemetryEvent } from '@tracer/events';

export const tsUs = (ns: number) => Math.floor(ns / 1000);

/** `<boot prefix>-<pid>-<start ns since boot>`; undefined for a malformed upid. */
export function splitUpid(upid: string): { bootPrefix: string; startNs: number } | undefined {
  const m = /^([0-9a-f]{8})-[0-9]+-([0-9]+)$/.exec(upid);
  return m ? { bootPrefix: m[1]!, startNs: Number(m[2]) } : undefined;
}

export const bootKey = (host: string, bootPrefix: string) => `${host}\u0000${bootPrefix}`;

export interface BootEstimate {
  host: string;
  bootPrefix: string;
  bootWallNs: number;
}

type Lifecycle = EventOf<'process.fork'> | EventOf<'process.exec'> | EventOf<'process.exit'>;

const isLifecycle = (e: TelemetryEvent): e is Lifecycle =>
  e.type === 'process.fork' || e.type === 'process.exec' || e.type === 'process.exit';

/**
 * Each boot's wall-clock time as these events suggest it. A process cannot start before
 * boot + its start offset, and its fork/exec is seen at or after its start, so `ts - startNs`
 * bounds boot time from above: the smallest bound is the best. An exit with its duration
 * gives its start directly. Only the first estimate stored for a boot is ever used.
 */
export function estimateBoots(events: readonly TelemetryEvent[]): BootEstimate[] {
  const out = new Map<string, BootEstimate>();
  for (const e of events) {
    if (!isLifecycle(e)) continue;
    const upid = splitUpid(e.upid);
    if (!upid) continue;
    const started = e.type === 'process.exit' && e.durationNs !== undefined ? e.ts - e.durationNs : e.ts;
    const bootWallNs = Math.max(0, Math.round(started - upid.startNs));
    const key = bootKey(e.host, upid.bootPrefix);
    const seen = out.get(key);
    if (!seen || bootWallNs < seen.bootWallNs) out.set(key, { host: e.host, bootPrefix: upid.bootPrefix, bootWallNs });
  }
  return [...out.values()];
}

export interface ProcessRow {
  host: string;
  upid: string;
  start_ts_us: number;
  end_ts_us: number | null;
  pid: number;
  ppid: number | null;
  parent_upid: string | null;
  uid: number | null;
  exe: string | null;
  argv: string[] | null;
  argv_truncated: boolean | null;
  cwd: string | null;
  comm: string | null;
  cgroup_id: string | null;
  container_id: string | null;
  env: Record<string, string> | null;
  exit_code: number | null;
  exit_code_unknown: boolean | null;
  signal: number | null;
  core_dumped: boolean | null;
  duration_ns: number | null;
  cpu_user_ns: number | null;
  cpu_sys_ns: number | null;
  peak_rss_bytes: number | null;
  read_bytes: number | null;
  write_bytes: number | null;
  storage_read_bytes: number | null;
  storage_write_bytes: number | null;
  io_wait_ns: number | null;
  net_send_bytes: number | null;
  net_recv_bytes: number | null;
  sampled: boolean;
  agent_id: string;
  exec_seq: number | null;
  exit_seq: number | null;
}

export interface ProcessSampleRow {
  host: string;
  upid: string;
  ts_us: number;
  cpu_ns: number;
  rss_bytes: number;
  read_bytes: number;
  write_bytes: number;
  io_wait_ns: number | null;
  net_send_bytes: number | null;
  net_recv_bytes: number | null;
  /** Null for an empty state letter (the column holds exactly one letter or nothing). */
  state: string | null;
  threads: number | null;
  sampled: boolean;
  agent_id: string;
  seq: number;
}

export interface HostInfoRow {
  host: string;
  boot_id: string;
  hostname: string;
  kernel: string;
  cpus: number;
  memory_bytes: number;
  cloud: string | null;
  instance_id: string | null;
  instance_type: string | null;
  region: string | null;
  ts_us: number;
  agent_id: string;
  seq: number;
}

export interface HostSampleRow {
  host: string;
  ts_us: number;
  cpu_busy_ratio: number;
  load1: number;
  memory_used_bytes: number;
  memory_available_bytes: number;
  disk_used_bytes: number | null;
  disk_total_bytes: number | null;
  net_recv_bytes: number | null;
  net_send_bytes: number | null;
  pressure: unknown;
  agent_id: string;
  seq: number;
}

export interface LogRow {
  host: string;
  agent_id: string;
  seq: number;
  ts_us: number;
  upid: string;
  pid: number;
  stream: string;
  text: string;
  dropped_bytes: number | null;
  sampled: boolean;
}

export interface FileOpenRow {
  host: string;
  agent_id: string;
  seq: number;
  ts_us: number;
  upid: string;
  pid: number;
  path: string;
  flags: number;
  error: string | null;
  sampled: boolean;
}

export interface OomKillRow {
  host: string;
  agent_id: string;
  seq: number;
  ts_us: number;
  victim_pid: number;
  victim_upid: string | null;
  victim_comm: string | null;
  trigger_pid: number | null;
  oom_constraint: string;
  cgroup_id: string | null;
  memory_limit_bytes: number | null;
  memory_usage_bytes: number | null;
  victim_rss_bytes: number | null;
}

/** One tenant's rows for one batch, by table. */
export interface Rows {
  processes: ProcessRow[];
  processSamples: ProcessSampleRow[];
  hostInfo: HostInfoRow[];
  hostSamples: HostSampleRow[];
  logs: LogRow[];
  fileOpens: FileOpenRow[];
  oomKills: OomKillRow[];
  /** Valid events with no table of their own (they still go to the normalized topic). */
  notStored: number;
}

export const emptyRows = (): Rows => ({
  processes: [],
  processSamples: [],
  hostInfo: [],
  hostSamples: [],
  logs: [],
  fileOpens: [],
  oomKills: [],
  notStored: 0,
});

export const rowCount = (rows: Rows) =>
  rows.processes.length +
  rows.processSamples.length +
  rows.hostInfo.length +
  rows.hostSamples.length +
  rows.logs.length +
  rows.fileOpens.length +
  rows.oomKills.length;

const opt = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

function newProcessRow(e: Lifecycle, startTsUs: number): ProcessRow {
  return {
    host: e.host,
    upid: e.upid,
    start_ts_us: startTsUs,
    end_ts_us: null,
    pid: e.pid,
    ppid: null,
    parent_upid: null,
    uid: null,
    exe: null,
    argv: null,
    argv_truncated: null,
    cwd: null,
    comm: null,
    cgroup_id: null,
    container_id: null,
    env: null,
    exit_code: null,
    exit_code_unknown: null,
    signal: null,
    core_dumped: null,
    duration_ns: null,
    cpu_user_ns: null,
    cpu_sys_ns: null,
    peak_rss_bytes: null,
    read_bytes: null,
    write_bytes: null,
    storage_read_bytes: null,
    storage_write_bytes: null,
    io_wait_ns: null,
    net_send_bytes: null,
    net_recv_bytes: null,
    sampled: false,
    agent_id: e.agentId,
    exec_seq: null,
    exit_seq: null,
  };
}

/**
 * Rows for one tenant's fresh events. A process's fork, exec and exit in one batch fold into
 * one row (an upsert may touch a row once per statement); across batches the upsert merges
 * them (null never overwrites). `bootWallNs` gives each boot's stored wall-clock time.
 */
export function toRows(
  events: readonly TelemetryEvent[],
  bootWallNs: (host: string, bootPrefix: string) => number | undefined,
): Rows {
  const rows = emptyRows();
  const processes = new Map<string, ProcessRow>();
  const hostInfo = new Map<string, HostInfoRow>();
  // Nearly every process event of a batch is of one boot: remember the last lookup.
  const lastBoot: { host?: string; prefix?: string; ns?: number | undefined } = {};
  const bootOf = (host: string, prefix: string) => {
    lastBoot.host = host;
    lastBoot.prefix = prefix;
    lastBoot.ns = bootWallNs(host, prefix);
    return lastBoot.ns;
  };
  for (const e of events) {
    switch (e.type) {
      case 'process.fork':
      case 'process.exec':
      case 'process.exit': {
        const upid = splitUpid(e.upid);
        const boot =
          upid &&
          (upid.bootPrefix === lastBoot.prefix && e.host === lastBoot.host
            ? lastBoot.ns
            : bootOf(e.host, upid.bootPrefix));
        // A malformed upid cannot pass validation; a missing boot is the caller's bug.
        if (!upid || boot === undefined) throw new Error(`no boot time for ${e.host} ${e.upid}`);
        const key = `${e.host}\u0000${e.upid}`;
        let row = processes.get(key);
        if (!row) {
          row = newProcessRow(e, tsUs(boot + upid.startNs));
          processes.set(key, row);
        }
        row.pid = e.pid;
        row.agent_id = e.agentId;
        if (e.sampled) row.sampled = true;
        if (e.type === 'process.fork') {
          row.ppid = e.ppid;
          row.parent_upid = opt(e.parentUpid) ?? row.parent_upid;
        } else if (e.type === 'process.exec') {
          row.ppid = e.ppid;
          row.parent_upid = opt(e.parentUpid) ?? row.parent_upid;
          row.uid = e.uid;
          row.exe = e.exe;
          row.argv = e.argv;
          row.argv_truncated = e.argvTruncated;
          row.cwd = e.cwd;
          row.comm = opt(e.comm);
          row.cgroup_id = opt(e.cgroupId);
          row.container_id = opt(e.containerId);
          row.env = opt(e.env);
          row.exec_seq = e.seq;
        } else {
          row.end_ts_us = tsUs(e.ts);
          row.exit_code = e.exitCode;
          row.exit_code_unknown = opt(e.exitCodeUnknown);
          row.signal = e.signal;
          row.core_dumped = e.coreDumped;
          row.duration_ns = opt(e.durationNs);
          row.cpu_user_ns = e.cpuUserNs;
          row.cpu_sys_ns = e.cpuSysNs;
          row.peak_rss_bytes = e.peakRssBytes;
          row.read_bytes = e.readBytes;
          row.write_bytes = e.writeBytes;
          row.storage_read_bytes = opt(e.storageReadBytes);
          row.storage_write_bytes = opt(e.storageWriteBytes);
          row.io_wait_ns = opt(e.ioWaitNs);
          row.net_send_bytes = opt(e.netSendBytes);
          row.net_recv_bytes = opt(e.netRecvBytes);
          row.exit_seq = e.seq;
        }
        break;
      }
      case 'process.sample':
        rows.processSamples.push({
          host: e.host,
          upid: e.upid,
          ts_us: tsUs(e.ts),
          cpu_ns: e.cpuNs,
          rss_bytes: e.rssBytes,
          read_bytes: e.readBytes,
          write_bytes: e.writeBytes,
          io_wait_ns: opt(e.ioWaitNs),
          net_send_bytes: opt(e.netSendBytes),
          net_recv_bytes: opt(e.netRecvBytes),
          state: e.state === '' ? null : e.state,
          threads: opt(e.threads),
          sampled: e.sampled ?? false,
          agent_id: e.agentId,
          seq: e.seq,
        });
        break;
      case 'host.info':
        hostInfo.set(`${e.host}\u0000${e.bootId}`, {
          host: e.host,
          boot_id: e.bootId,
          hostname: e.hostname,
          kernel: e.kernel,
          cpus: e.cpus,
          memory_bytes: e.memoryBytes,
          cloud: opt(e.cloud),
          instance_id: opt(e.instanceId),
          instance_type: opt(e.instanceType),
          region: opt(e.region),
          ts_us: tsUs(e.ts),
          agent_id: e.agentId,
          seq: e.seq,
        });
        break;
      case 'host.sample':
        rows.hostSamples.push({
          host: e.host,
          ts_us: tsUs(e.ts),
          cpu_busy_ratio: e.cpuBusyRatio,
          load1: e.load1,
          memory_used_bytes: e.memoryUsedBytes,
          memory_available_bytes: e.memoryAvailableBytes,
          disk_used_bytes: opt(e.diskUsedBytes),
          disk_total_bytes: opt(e.diskTotalBytes),
          net_recv_bytes: opt(e.netRecvBytes),
          net_send_bytes: opt(e.netSendBytes),
          pressure: opt(e.pressure),
          agent_id: e.agentId,
          seq: e.seq,
        });
        break;
      case 'log.chunk':
        rows.logs.push({
          host: e.host,
          agent_id: e.agentId,
          seq: e.seq,
          ts_us: tsUs(e.ts),
          upid: e.upid,
          pid: e.pid,
          stream: e.stream,
          text: e.text,
          dropped_bytes: opt(e.droppedBytes),
          sampled: e.sampled ?? false,
        });
        break;
      case 'file.open':
        rows.fileOpens.push({
          host: e.host,
          agent_id: e.agentId,
          seq: e.seq,
          ts_us: tsUs(e.ts),
          upid: e.upid,
          pid: e.pid,
          path: e.path,
          flags: e.flags,
          error: opt(e.error),
          sampled: e.sampled ?? false,
        });
        break;
      case 'oom.kill':
        rows.oomKills.push({
          host: e.host,
          agent_id: e.agentId,
          seq: e.seq,
          ts_us: tsUs(e.ts),
          victim_pid: e.victimPid,
          victim_upid: opt(e.victimUpid),
          victim_comm: opt(e.victimComm),
          trigger_pid: opt(e.triggerPid),
          oom_constraint: e.constraint,
          cgroup_id: opt(e.cgroupId),
          memory_limit_bytes: opt(e.memoryLimitBytes),
          memory_usage_bytes: opt(e.memoryUsageBytes),
          victim_rss_bytes: opt(e.victimRssBytes),
        });
        break;
      default:
        rows.notStored++;
    }
  }
  rows.processes = [...processes.values()];
  rows.hostInfo = [...hostInfo.values()];
  return rows;
}
