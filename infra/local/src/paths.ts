// Where the local stack keeps its state: a git-ignored .tracer/ at the repo root
// (TRACER_HOME moves it). Data survives `tracer down`; only deleting the folder resets it.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');

export interface StackPaths {
  home: string;
  /** Server data (Kafka log dirs, PostgreSQL cluster, Redis AOF): kept across down/up. */
  data: string;
  /** Logs of every server, named in every error. */
  log: string;
  /** Pid files and sockets. */
  run: string;
  /** Generated configuration, rewritten on each start. */
  conf: string;
}

export function stackPaths(home = process.env.TRACER_HOME || join(repoRoot, '.tracer')): StackPaths {
  const root = resolve(home);
  return {
    home: root,
    data: join(root, 'data'),
    log: join(root, 'log'),
    run: join(root, 'run'),
    conf: join(root, 'conf'),
  };
}

export function ensureDirs(...dirs: string[]): void {
  for (const dir of dirs) mkdirSync(dir, { recursive: true });
}
