// Test aid: builds event streams by hand and replays recorded fixtures through the core,
// answering file wants from a map instead of the disk. Used by the *.test.ts files only.
import { readFileSync } from 'node:fs';
import type { AttributionChange, TelemetryEvent } from '@tracer/events';
import { defaultToolRules } from '../tool-rules-file.ts';
import { attribute, createAttribution } from './attributor.ts';
import { buildTree, type TraceTree } from './tree.ts';
import type { AttributionInput, AttributionState, FileWant } from './types.ts';

const fixturesDir = new URL('../../fixtures/', import.meta.url);

export function fixtureEvents(name: string): TelemetryEvent[] {
  return readFileSync(new URL(name, fixturesDir), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TelemetryEvent);
}

export function fixtureText(name: string): string {
  return readFileSync(new URL(name, fixturesDir), 'utf8');
}

export interface Replay {
  state: AttributionState;
  tree: TraceTree;
  changes: AttributionChange[];
  wants: FileWant[];
}

/** Feeds events in batches; wants are answered from `files` (absent = file does not exist). */
export function replay(events: AttributionInput[], files: Record<string, string> | null = {}, batchSize = 50): Replay {
  const state = createAttribution({ rules: defaultToolRules() });
  const changes: AttributionChange[] = [];
  const allWants: FileWant[] = [];
  for (let i = 0; i < events.length; i += batchSize) {
    let r = attribute(state, events.slice(i, i + batchSize));
    changes.push(...r.changes);
    allWants.push(...r.wants);
    while (files !== null && r.wants.length > 0) {
      r = attribute(
        state,
        r.wants.map((w) => ({ type: 'file.fact' as const, path: w.path, text: files[w.path] ?? findGlob(files, w) })),
      );
      changes.push(...r.changes);
      allWants.push(...r.wants);
    }
  }
  return { state, tree: buildTree(state), changes, wants: allWants };
}

function findGlob(files: Record<string, string>, w: FileWant): string | null {
  if (!w.glob) return null;
  const [prefix, suffix] = w.path.split('*') as [string, string];
  const key = Object.keys(files).find((k) => k.startsWith(prefix) && k.endsWith(suffix));
  return key ? files[key]! : null;
}

/** Hand-built events with a clock that moves forward 1 ms per event unless told. */
export class EventBuilder {
  private seq = 0;
  ts = 1_700_000_000_000_000_000;
  private readonly upids = new Map<number, string>();
  readonly events: TelemetryEvent[] = [];

  private env() {
    this.ts += 1_000_000;
    return { tenant: 't', host: 'h', agentId: 'a', seq: this.seq++, ts: this.ts };
  }

  upid(pid: number): string {
    let u = this.upids.get(pid);
    if (!u) {
      u = `0badc0de-${pid}-${this.ts}`;
      this.upids.set(pid, u);
    }
    return u;
  }

  at(ms: number): this {
    this.ts = 1_700_000_000_000_000_000 + ms * 1_000_000 - 1_000_000;
    return this;
  }

  start(rootPid: number, labels: { pipeline?: string; run?: string } = {}): this {
    this.events.push({ ...this.env(), type: 'trace.start', command: [], rootPid, mode: 'bpf', ...labels });
    return this;
  }

  fork(pid: number, ppid: number): this {
    this.upids.delete(pid);
    this.events.push({
      ...this.env(),
      type: 'process.fork',
      pid,
      upid: this.upid(pid),
      ppid,
      parentUpid: this.upid(ppid),
    });
    return this;
  }

  exec(
    pid: number,
    argv: string[],
    o: { ppid?: number; cwd?: string; exe?: string; env?: Record<string, string>; containerId?: string } = {},
  ): this {
    const e = this.env();
    this.events.push({
      ...e,
      type: 'process.exec',
      pid,
      upid: this.upid(pid),
      ppid: o.ppid ?? 1,
      ...(o.ppid !== undefined ? { parentUpid: this.upid(o.ppid) } : {}),
      uid: 0,
      exe: o.exe ?? `/usr/bin/${argv[0]!.split('/').pop()}`,
      argv,
      argvTruncated: false,
      cwd: o.cwd ?? '/data',
      ...(o.env ? { env: o.env } : {}),
      ...(o.containerId ? { containerId: o.containerId } : {}),
    });
    return this;
  }

  /** fork + exec in one go. */
  spawn(
    pid: number,
    ppid: number,
    argv: string[],
    o: { cwd?: string; exe?: string; env?: Record<string, string>; containerId?: string } = {},
  ): this {
    return this.fork(pid, ppid).exec(pid, argv, { ...o, ppid });
  }

  sample(pid: number, rssMiB: number, cpuMs = 0): this {
    this.events.push({
      ...this.env(),
      type: 'process.sample',
      pid,
      upid: this.upid(pid),
      cpuNs: cpuMs * 1e6,
      rssBytes: rssMiB * 1048576,
      readBytes: 0,
      writeBytes: 0,
      state: 'R',
    });
    return this;
  }

  exit(
    pid: number,
    code = 0,
    o: {
      signal?: number;
      peakMiB?: number;
      execPeakMiB?: number;
      cpuMs?: number;
      readBytes?: number;
      writeBytes?: number;
    } = {},
  ): this {
    this.events.push({
      ...this.env(),
      type: 'process.exit',
      pid,
      upid: this.upid(pid),
      exitCode: code,
      signal: o.signal ?? null,
      coreDumped: false,
      cpuUserNs: (o.cpuMs ?? 0) * 1e6,
      cpuSysNs: 0,
      peakRssBytes: (o.peakMiB ?? 0) * 1048576,
      ...(o.execPeakMiB !== undefined ? { execPeakRssBytes: o.execPeakMiB * 1048576 } : {}),
      readBytes: o.readBytes ?? 0,
      writeBytes: o.writeBytes ?? 0,
    });
    return this;
  }

  log(pid: number, text: string, stream: 'stdout' | 'stderr' = 'stderr'): this {
    this.events.push({ ...this.env(), type: 'log.chunk', pid, upid: this.upid(pid), stream, text });
    return this;
  }

  oom(pid: number): this {
    this.events.push({
      ...this.env(),
      type: 'oom.kill',
      victimPid: pid,
      victimUpid: this.upid(pid),
      constraint: 'memcg',
    });
    return this;
  }
}

export const MiB = 1048576;

/** `step: task, task | step2: ...` — a compact view of a tree for assertions. */
export function outline(tree: TraceTree): string[] {
  return tree.runs.flatMap((r) =>
    r.steps.map((s) => `${s.name}: ${s.tasks.map((t) => `${t.name}=${t.status}`).join(', ')}`),
  );
}
