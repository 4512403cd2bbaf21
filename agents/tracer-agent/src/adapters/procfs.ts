// Readers for /proc: one function per file, each returning parsed numbers or undefined when
// the process is gone. Synchronous on purpose: /proc reads never block on storage, and a
// poll of a few hundred small reads costs far less than as many thread-pool round trips.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { NS_PER_TICK } from '../core/upid.ts';

export interface ProcPaths {
  /** Mount point of procfs; tests point it at a fixture tree. */
  proc: string;
}
export const defaultProcPaths: ProcPaths = { proc: '/proc' };

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** /proc/<pid>/stat, fields by their man-page numbers (proc_pid_stat(5)). */
export interface PidStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  utimeTicks: number;
  stimeTicks: number;
  threads: number;
  startTicks: number;
  rssPages: number;
  /** Field 42: aggregated block I/O delay, only counted with delay accounting on. */
  blkioTicks: number;
  /** Field 52: the wait status, set once the process is a zombie. */
  exitStatus: number;
}

export function parseStat(text: string): PidStat | undefined {
  // comm (field 2) may hold spaces and parentheses: it ends at the last ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const rest = text
    .slice(close + 2)
    .trim()
    .split(' ');
  // rest[0] is field 3.
  const f = (n: number) => Number(rest[n - 3] ?? 0);
  return {
    pid: Number(text.slice(0, open).trim()),
    comm: text.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: f(4),
    pgrp: f(5),
    utimeTicks: f(14),
    stimeTicks: f(15),
    threads: f(20),
    startTicks: f(22),
    rssPages: f(24),
    blkioTicks: f(42),
    exitStatus: f(52),
  };
}

export function readStat(pid: number | string, paths = defaultProcPaths): PidStat | undefined {
  const text = read(`${paths.proc}/${pid}/stat`);
  return text === undefined ? undefined : parseStat(text);
}

/** Decodes a wait status (field 52 of a zombie's stat, or waitpid's). */
export function decodeWaitStatus(status: number): { exitCode: number; signal: number | null; coreDumped: boolean } {
  const sig = status & 0x7f;
  if (sig === 0) return { exitCode: (status >> 8) & 0xff, signal: null, coreDumped: false };
  return { exitCode: 0, signal: sig, coreDumped: (status & 0x80) !== 0 };
}

export interface PidStatus {
  uid: number;
  /** VmHWM: the RSS high-water mark (absent for kernel threads and zombies). */
  peakRssBytes?: number;
  rssBytes?: number;
  voluntaryCtxSwitches?: number;
  involuntaryCtxSwitches?: number;
}

export function parseStatus(text: string): PidStatus {
  const out: PidStatus = { uid: 0 };
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    if (key === 'Uid') out.uid = Number(value.split(/\s+/)[0]);
    else if (key === 'VmHWM') out.peakRssBytes = kb(value);
    else if (key === 'VmRSS') out.rssBytes = kb(value);
    else if (key === 'voluntary_ctxt_switches') out.voluntaryCtxSwitches = Number(value);
    else if (key === 'nonvoluntary_ctxt_switches') out.involuntaryCtxSwitches = Number(value);
  }
  return out;
}
const kb = (value: string) => Number(value.replace(/\s*kB$/, '')) * 1024;

export function readStatus(pid: number | string, paths = defaultProcPaths): PidStatus | undefined {
  const text = read(`${paths.proc}/${pid}/status`);
  return text === undefined ? undefined : parseStatus(text);
}

export interface PidIo {
  /** rchar/wchar: bytes through read/write-family syscalls. */
  readBytes: number;
  writeBytes: number;
  /** read_bytes/write_bytes: bytes that reached the block layer. */
  storageReadBytes: number;
  storageWriteBytes: number;
}

export function parseIo(text: string): PidIo {
  const fields = new Map(
    text
      .split('\n')
      .map((l) => l.split(':'))
      .filter((p) => p.length === 2)
      .map(([k, v]) => [k!.trim(), Number(v!.trim())]),
  );
  return {
    readBytes: fields.get('rchar') ?? 0,
    writeBytes: fields.get('wchar') ?? 0,
    storageReadBytes: fields.get('read_bytes') ?? 0,
    storageWriteBytes: fields.get('write_bytes') ?? 0,
  };
}

export function readIo(pid: number | string, paths = defaultProcPaths): PidIo | undefined {
  const text = read(`${paths.proc}/${pid}/io`);
  return text === undefined ? undefined : parseIo(text);
}

/** argv from /proc/<pid>/cmdline (NUL-separated; empty for kernel threads and zombies). */
export function readCmdline(pid: number | string, paths = defaultProcPaths): string[] | undefined {
  const text = read(`${paths.proc}/${pid}/cmdline`);
  if (text === undefined) return undefined;
  // latin1 above keeps bytes; argv is usually UTF-8.
  const utf8 = Buffer.from(text, 'latin1').toString('utf8');
  const parts = utf8.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** NAME=value entries of /proc/<pid>/environ; callers keep only allowlisted names. */
export function readEnviron(pid: number | string, paths = defaultProcPaths): string[] | undefined {
  const text = read(`${paths.proc}/${pid}/environ`);
  if (text === undefined) return undefined;
  return Buffer.from(text, 'latin1')
    .toString('utf8')
    .split('\0')
    .filter((e) => e !== '');
}

function link(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    return undefined;
  }
}

export const readExe = (pid: number | string, paths = defaultProcPaths) => link(`${paths.proc}/${pid}/exe`);
export const readCwd = (pid: number | string, paths = defaultProcPaths) => link(`${paths.proc}/${pid}/cwd`);

/** Children of every thread of `pid` (CONFIG_PROC_CHILDREN); undefined when unsupported or gone. */
export function readChildren(pid: number | string, paths = defaultProcPaths): number[] | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`${paths.proc}/${pid}/task`);
  } catch {
    return undefined;
  }
  const out: number[] = [];
  for (const tid of tids) {
    const text = read(`${paths.proc}/${pid}/task/${tid}/children`);
    if (text === undefined) return tids.length === 1 ? undefined : out;
    for (const c of text.trim().split(/\s+/)) if (c !== '') out.push(Number(c));
  }
  return out;
}

/** Every pid in /proc. */
export function listPids(paths = defaultProcPaths): number[] {
  return readdirSync(paths.proc)
    .filter((n) => /^[0-9]+$/.test(n))
    .map(Number);
}

export function readBootId(paths = defaultProcPaths): string {
  const text = read(`${paths.proc}/sys/kernel/random/boot_id`);
  if (text === undefined) throw new Error(`cannot read ${paths.proc}/sys/kernel/random/boot_id`);
  return text.trim();
}

/** Seconds since boot, from /proc/uptime (10 ms resolution). */
export function readUptimeNs(paths = defaultProcPaths): number {
  const text = read(`${paths.proc}/uptime`) ?? '0';
  return Number(text.split(' ')[0]) * 1e9;
}

/** Whether per-task delay accounting is on: without it, field 42 (block I/O delay) stays 0. */
export function delayAccountingEnabled(paths = defaultProcPaths): boolean {
  return read(`${paths.proc}/sys/kernel/task_delayacct`)?.trim() === '1';
}

export interface CpuTimes {
  busyTicks: number;
  totalTicks: number;
}

/** The aggregate `cpu` line of /proc/stat. */
export function parseCpuTimes(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busyTicks: busy, totalTicks: busy + idle + iowait };
}

export const readCpuTimes = (paths = defaultProcPaths) => parseCpuTimes(read(`${paths.proc}/stat`) ?? '');

export interface MemInfo {
  totalBytes: number;
  availableBytes: number;
}

export function parseMeminfo(text: string): MemInfo {
  const get = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  return { totalBytes: get('MemTotal'), availableBytes: get('MemAvailable') };
}

export const readMeminfo = (paths = defaultProcPaths) => parseMeminfo(read(`${paths.proc}/meminfo`) ?? '');

export function readLoad1(paths = defaultProcPaths): number {
  return Number((read(`${paths.proc}/loadavg`) ?? '0').split(' ')[0]) || 0;
}

/** Pressure stall information: "some" and "full" avg10 in percent, for cpu, memory or io. */
export function parsePressure(text: string): { some10: number; full10?: number } | undefined {
  const avg = (kind: string) => {
    const m = new RegExp(`^${kind} avg10=([0-9.]+)`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  };
  const some10 = avg('some');
  if (some10 === undefined) return undefined;
  const full10 = avg('full');
  return full10 === undefined ? { some10 } : { some10, full10 };
}

export function readPressure(resource: 'cpu' | 'memory' | 'io', paths = defaultProcPaths) {
  const text = read(`${paths.proc}/pressure/${resource}`);
  return text === undefined ? undefined : parsePressure(text);
}

/** Bytes received and sent on every interface but loopback, from /proc/net/dev. */
export function parseNetDev(text: string): { recvBytes: number; sendBytes: number } {
  let recvBytes = 0;
  let sendBytes = 0;
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    if (line.slice(0, colon).trim() === 'lo') continue;
    const cols = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/)
      .map(Number);
    recvBytes += cols[0] ?? 0;
    sendBytes += cols[8] ?? 0;
  }
  return { recvBytes, sendBytes };
}

export const readNetDev = (paths = defaultProcPaths) => parseNetDev(read(`${paths.proc}/net/dev`) ?? '');

export const ticksToNs = (ticks: number) => ticks * NS_PER_TICK;
