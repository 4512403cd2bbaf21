// Test support: run the real `./tracer` command line and read what it wrote.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TelemetryEvent, validateEvent } from '@tracer/events';
import { createBpfSourceIfAvailable } from '../src/adapters/select-source.ts';

export const REPO = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
export const TRACER = join(REPO, 'tracer');
export const NODE_BIN = join(REPO, '.tools', 'bin');

export type Mode = 'proc' | 'bpf';

export interface TracerResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export function tracerEnv(dataDir: string, mode?: Mode, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${NODE_BIN}:${process.env.PATH ?? ''}`,
    TRACER_DATA_DIR: dataDir,
    TRACER_LOG_LEVEL: 'warn',
    ...(mode ? { TRACER_AGENT_MODE: mode } : {}),
    ...extra,
  };
}

export function tracer(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): TracerResult {
  // stdin is /dev/null: libuv pipes are socketpairs, and bash with a socket on stdin thinks
  // it runs under sshd and sources ~/.bashrc, adding processes the tests do not expect.
  const r = spawnSync(TRACER, args, { env, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Starts `./tracer ...` without waiting (signal forwarding tests). */
export function tracerAsync(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(TRACER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ status: number | null; stderr: string }>((resolve) =>
    child.on('exit', (status) => resolve({ status, stderr })),
  );
  return { child, done };
}

/** Every line of a trace, parsed; throws on a line that is not JSON. */
export function readJsonl(path: string): Record<string, unknown>[] {
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Every line validated against the event schemas; returns the events or throws naming the line. */
export function readValidTrace(path: string): TelemetryEvent[] {
  return readJsonl(path).map((line, i) => {
    const v = validateEvent(line);
    if (!v.ok) throw new Error(`${path} line ${i + 1}: ${v.reason}`);
    return v.event;
  });
}

export type Of<K extends TelemetryEvent['type']> = Extract<TelemetryEvent, { type: K }>;
export const ofType = <K extends TelemetryEvent['type']>(events: TelemetryEvent[], type: K) =>
  events.filter((e): e is Of<K> => e.type === type);

/** Why BPF cannot be used here (the reason createBpfSource gives), or undefined when it can. */
export async function bpfUnavailable(): Promise<string | undefined> {
  try {
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const source = await createBpfSourceIfAvailable({ descendantsOf: process.pid, bootId });
    await source.stop();
    return undefined;
  } catch (err) {
    return `BPF unavailable: ${(err as Error).message}`;
  }
}

/**
 * A memory cgroup limited to `limitBytes` (v1 where the memory controller is on v1, else v2),
 * or the reason none can be made here.
 */
export function memoryCgroup(name: string, limitBytes: number): { procs: string; remove(): void } | string {
  const v1 = '/sys/fs/cgroup/memory';
  try {
    if (existsSync(join(v1, 'memory.limit_in_bytes'))) {
      const dir = join(v1, name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'memory.limit_in_bytes'), String(limitBytes));
      if (existsSync(join(dir, 'memory.memsw.limit_in_bytes'))) {
        writeFileSync(join(dir, 'memory.memsw.limit_in_bytes'), String(limitBytes));
      }
      return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
    }
    const v2 = '/sys/fs/cgroup';
    if (!readFileSync(join(v2, 'cgroup.subtree_control'), 'utf8').includes('memory')) {
      writeFileSync(join(v2, 'cgroup.subtree_control'), '+memory');
    }
    const dir = join(v2, name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'memory.max'), String(limitBytes));
    if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
    return { procs: join(dir, 'cgroup.procs'), remove: () => rmdirSync(dir) };
  } catch (err) {
    return `cannot make a memory cgroup: ${(err as Error).message}`;
  }
}
