// The same workload untraced and traced (all programs attached, this process's subtree
// captured), interleaved so drift hits both alike; median ratios of wall time and of the
// workload's own CPU time (wait4's rusage in microseconds, src/timed.ts: BPF programs run in
// the traced processes, so their cost lands there; the CPU ratio is steadier on a busy host),
// and the agent's CPU. Ratios are per round (traced / untraced of the same round), then the
// median and the interquartile range; each arm waits for the kernel to settle after the last
// load or detach.
// BENCH_COMPARE_ADDON=path/to/tracer_bpf.node adds a third arm per round, the same agent on
// another build of the addon (and so of the bpf/ programs), in rotated order, and prints both
// builds' ratios and the ratio between them: on a busy host the arms of one round share its
// drift, so that ratio is the steadier before/after figure.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createBpfSource } from '../../agents/tracer-agent/src/adapters/bpf-source.ts';
import { describeRatios, median } from './capture.ts';
import { type Run, settle } from './timed.ts';
import { bwaSamtools, execStorm } from './workloads.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const COMPARE_ADDON = process.env.BENCH_COMPARE_ADDON;
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');

interface Arm {
  cpu: number[];
  wall: number[];
  agentCpu: number[];
}

async function tracedRun(run: () => Promise<Run>, addonPath?: string) {
  const source = await createBpfSource({ descendantsOf: process.pid, bootId, addonPath });
  await source.start(() => {});
  const before = process.cpuUsage();
  const traced = await run();
  source.drain();
  const used = process.cpuUsage(before);
  await source.stop();
  await settle();
  return { traced, agentMs: (used.user + used.system) / 1000 };
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

async function compare(name: string, run: () => Promise<Run>) {
  const addons = COMPARE_ADDON ? [undefined, COMPARE_ADDON] : [undefined];
  const arms: Arm[] = addons.map(() => ({ cpu: [], wall: [], agentCpu: [] }));
  const plain: number[] = [];
  const between: number[] = [];
  await run(); // warm caches
  for (let i = 0; i < ROUNDS; i++) {
    // Rotated order (-1 is the untraced arm), so no arm always runs first.
    const order = [-1, ...addons.map((_, k) => k)];
    for (let r = 0; r < i % order.length; r++) order.push(order.shift()!);
    let untraced: Run | undefined;
    const traced: { traced: Run; agentMs: number }[] = [];
    for (const k of order) {
      if (k < 0) {
        untraced = await run();
        await settle();
      } else traced[k] = await tracedRun(run, addons[k]);
    }
    plain.push(untraced!.wallMs);
    traced.forEach((t, k) => {
      arms[k]!.wall.push(t.traced.wallMs / untraced!.wallMs);
      arms[k]!.cpu.push(t.traced.cpuMs / untraced!.cpuMs);
      arms[k]!.agentCpu.push(t.agentMs / t.traced.wallMs);
    });
    if (traced.length > 1) between.push(traced[0]!.traced.cpuMs / traced[1]!.traced.cpuMs);
  }
  arms.forEach((a, k) => {
    const label = k === 0 ? '' : ` [agent from ${addons[k]}]`;
    console.log(
      `${name}${label}: untraced median ${median(plain).toFixed(0)} ms; traced/untraced wall ${describeRatios(a.wall)}, ` +
        `workload CPU ${describeRatios(a.cpu)}; agent CPU ` +
        `${(median(a.agentCpu) * 100).toFixed(1)}% of one core (${ROUNDS} rounds); load average ${load()}`,
    );
  });
  if (between.length) console.log(`${name}: workload CPU, this build / compared build: ${describeRatios(between)}`);
}

const storm = execStorm();
await compare(storm.name, storm.run);
const tools = bwaSamtools();
if (typeof tools === 'string') console.log(tools);
else await compare(tools.name, tools.run);
