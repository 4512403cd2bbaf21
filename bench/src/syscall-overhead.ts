// Overhead of the failed-syscall hooks (bpf/syscalls.bpf.c) on a syscall-heavy workload: a
// find over /usr, then a tar of /usr to /dev/null (GNU tar reads no file data then: ~1.2M
// metadata syscalls, almost all system time). Four arms per round, in rotated order so drift
// and neighbours hit each alike:
//   untraced   no BPF at all
//   base       every program but syscalls (process, oom, iowait, net, files, output)
//   errors     base + failed-syscall hooks, no time by class
//   full       base + failed-syscall hooks + syscall time by class (the default)
// The figure is the workload's own CPU time (user + system of the whole process tree, from
// wait4, src/timed.ts): BPF programs run in the traced processes, so their cost lands there,
// and CPU time is steadier than wall time on a shared machine. Ratios are per round (arm / base or
// arm / untraced of the same round), then the median; the spread says how noisy it was.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type BpfSource, createBpfSource } from '../../agents/tracer-agent/src/adapters/bpf-source.ts';
import { describeRatios, median } from './capture.ts';
import { type Run, settle, timed } from './timed.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 12);
const TREE = process.env.BENCH_TREE ?? '/usr';
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');

function workload(): Promise<Run> {
  return timed('/bin/sh', ['-c', `find ${TREE} > /dev/null 2>&1; tar cf /dev/null ${TREE} 2>/dev/null; true`]);
}

type Arm = 'untraced' | 'base' | 'errors' | 'full';
const ARMS: Arm[] = ['untraced', 'base', 'errors', 'full'];

async function sourceFor(arm: Arm): Promise<BpfSource | undefined> {
  if (arm === 'untraced') return undefined;
  const source = await createBpfSource({
    descendantsOf: process.pid,
    bootId,
    ...(arm === 'base' ? { disabled: ['syscalls'] } : {}),
    ...(arm === 'errors' ? { timeSyscalls: false } : {}),
  });
  await source.start(() => {});
  return source;
}

async function runArm(arm: Arm): Promise<Run & { errors: number; lost: number }> {
  const source = await sourceFor(arm);
  try {
    const r = await workload();
    source?.drain();
    const losses = source?.kernelLosses();
    return { ...r, errors: source?.syscallErrorStats().emitted ?? 0, lost: losses ? losses.ringbuf : 0 };
  } finally {
    await source?.stop();
    await settle();
  }
}

const cpu: Record<Arm, number[]> = { untraced: [], base: [], errors: [], full: [] };
const wall: Record<Arm, number[]> = { untraced: [], base: [], errors: [], full: [] };
const loads: number[] = [];
let lost = 0;

await workload(); // warm the dentry and inode caches
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order: each arm runs first, second, ... equally often.
  const order = ARMS.map((_, i) => ARMS[(i + round) % ARMS.length]!);
  for (const arm of order) {
    const r = await runArm(arm);
    cpu[arm].push(r.cpuMs);
    wall[arm].push(r.wallMs);
    lost += r.lost;
  }
  loads.push(loadavg()[0]!);
  process.stderr.write(
    `round ${round + 1}/${ROUNDS}: cpu ms ${ARMS.map((a) => `${a} ${cpu[a].at(-1)!.toFixed(0)}`).join(', ')}; load ${loads.at(-1)!.toFixed(1)}\n`,
  );
}

const ratio = (arm: Arm, ref: Arm) => cpu[arm].map((v, i) => v / cpu[ref][i]!);
const cv = (v: number[]) => {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) / m;
};

console.log(`find + tar of ${TREE}, ${ROUNDS} interleaved rounds of 4 arms; workload CPU time (user + system)`);
console.log(
  `untraced: median ${median(cpu.untraced).toFixed(0)} ms CPU, ${median(wall.untraced).toFixed(0)} ms wall; ` +
    `run-to-run CPU spread (coefficient of variation) ${(cv(cpu.untraced) * 100).toFixed(1)}%`,
);
console.log(`failed-syscall hooks   (errors / base):   ${describeRatios(ratio('errors', 'base'))}`);
console.log(`hooks + time by class  (full / base):     ${describeRatios(ratio('full', 'base'))}`);
console.log(`whole agent            (full / untraced): ${describeRatios(ratio('full', 'untraced'))}`);
console.log(`other programs         (base / untraced): ${describeRatios(ratio('base', 'untraced'))}`);
console.log(
  `load average during the run: ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} on ${
    (await import('node:os')).cpus().length
  } CPUs; ring buffer losses ${lost}`,
);
