// Detached server processes: spawning them so they outlive the CLI, recognising our own
// (a pid file can outlive its process, and pids get reused), and stopping them.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, readlinkSync, realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerStatus } from './server.ts';

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie (a crashed child of this very CLI stays a zombie until reaped). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/**
 * The pid in pidFile if that process is alive and is ours: its working directory is the
 * server's data directory (each server runs from its own), which a reused pid will not have.
 */
export function ownedPid(pidFile: string, dataDir: string): number | undefined {
  const pid = readPid(pidFile);
  if (pid === undefined || !isAlive(pid)) return undefined;
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(dataDir) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export interface SpawnOptions {
  cwd: string;
  /** stdout and stderr go here, replacing what an earlier run left. */
  outFile: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/** Starts a process in its own session (setsid), so it outlives the CLI and its terminal. */
export function spawnDetached(command: string, args: string[], opts: SpawnOptions): Promise<number> {
  const out = openSync(opts.outFile, 'w');
  try {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      detached: true,
      stdio: ['ignore', out, out],
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid }),
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('spawn', () => {
        child.unref();
        resolve(child.pid!);
      });
    });
  } finally {
    closeSync(out);
  }
}

export interface RunResult {
  code: number | null;
  output: string;
}

/** Runs a short command to completion, collecting its output for error messages. */
export function run(
  command: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; detached?: boolean } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
      ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid }),
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      output += b.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, output: output.trim() }));
  });
}

/** SIGTERM, then SIGKILL if the process is still alive after graceMs. Resolves once it is gone. */
export async function terminate(pid: number, graceMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      signal(pid, 'SIGKILL');
      await sleep(200);
      return;
    }
    await sleep(100);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Polls check until it returns true; onWait is told the elapsed seconds every 10 s. */
export async function waitUntil(
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; onWait?: (elapsedS: number) => void },
): Promise<boolean> {
  const start = Date.now();
  let nextNotice = 10_000;
  for (;;) {
    if (await check()) return true;
    const elapsed = Date.now() - start;
    if (elapsed > opts.timeoutMs) return false;
    if (opts.onWait && elapsed >= nextNotice) {
      opts.onWait(Math.round(elapsed / 1000));
      nextNotice += 10_000;
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** The last lines of a log, indented, to quote in an error. */
export function tail(file: string, lines = 8): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines);
    return text.map((l) => `    ${l}`).join('\n');
  } catch {
    return '';
  }
}

/**
 * The pid of our server when it runs; otherwise its status: stopped (no pid file) or failed
 * (a pid file left by a process that is gone: `exited` says how, and where to look).
 */
export function ownedOrStatus(
  pidFile: string,
  dataDir: string,
  exited: string,
): { pid: number; status?: undefined } | { pid?: undefined; status: ServerStatus } {
  const pid = ownedPid(pidFile, dataDir);
  if (pid !== undefined) return { pid };
  return { status: readPid(pidFile) === undefined ? { state: 'stopped' } : { state: 'failed', reason: exited } };
}
