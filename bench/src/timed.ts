// Runs a command and measures it the way the overhead benchmarks compare arms: wall time, and
// the CPU time (user + system) of its whole process tree as wait4 returns it to a parent, in
// microseconds. GNU time prints 10 ms steps: 1.7% of a 0.6 s workload, more than the effect
// being measured. A small Python parent forks, execs the command and reports its rusage.
import { spawn } from 'node:child_process';

export interface Run {
  wallMs: number;
  cpuMs: number;
}

const PARENT = `import os, sys, time
t = time.monotonic_ns()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
_, status, ru = os.wait4(pid, 0)
print(os.waitstatus_to_exitcode(status), (time.monotonic_ns() - t) / 1e6, (ru.ru_utime + ru.ru_stime) * 1e3, file=sys.stderr)`;

export function timed(cmd: string, args: string[], cwd?: string): Promise<Run> {
  let err = '';
  return new Promise((resolve, reject) => {
    const c = spawn('python3', ['-c', PARENT, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd });
    c.stderr.on('data', (d) => (err += d));
    c.on('error', reject);
    c.on('exit', () => {
      const [code, wallMs, cpuMs] = err.trim().split('\n').at(-1)!.split(' ').map(Number);
      if (code !== 0 || !Number.isFinite(cpuMs)) reject(new Error(`${cmd} exited ${code}: ${err}`));
      else resolve({ wallMs: wallMs!, cpuMs: cpuMs! });
    });
  });
}

/** Lets the kernel finish what detaching or loading programs left (RCU, JIT frees) before the next arm. */
export const settle = (ms = 300) => new Promise((r) => setTimeout(r, ms));
