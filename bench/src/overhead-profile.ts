// Where the traced arm of the overhead bench spends its time, per BPF program: each workload
// (the exec storm of BENCH_PROCESSES x /bin/true, then bwa mem + samtools sort) under the agent
// with kernel.bpf_stats_enabled=1, each of the agent's programs' runs and run time (bpftool
// prog show), per run and per process, and all programs' time as a share of the workload's
// own CPU time: the kernel-side overhead, measured directly rather than as a difference of
// two noisy runs (the agent's user-space CPU, on another core, is not in it). Stats are
// switched off again at the end (they time every program run, so left on they inflate the
// traced arm of `overhead`). BENCH_ADDON profiles another build of the addon (its bpf/
// programs are embedded in it).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createBpfSource } from '../../agents/tracer-agent/src/adapters/bpf-source.ts';
import { bwaSamtools, execStorm, type Workload } from './workloads.ts';

const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 2000);
const STATS = '/proc/sys/kernel/bpf_stats_enabled';
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');

interface ProgStat {
  name: string;
  runs: number;
  ns: number;
}

// Ids of the programs this process holds open (others on the host may run agents too).
function ourProgramIds(): Set<number> {
  const ids = new Set<number>();
  for (const fd of readdirSync('/proc/self/fdinfo')) {
    let info = '';
    try {
      info = readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    } catch {
      continue; // closed meanwhile
    }
    const m = /^prog_id:\s*(\d+)$/m.exec(info);
    if (m) ids.add(Number(m[1]));
  }
  return ids;
}

// This process's programs, keyed by id.
function ourPrograms(): Map<number, ProgStat> {
  const ids = ourProgramIds();
  const all = JSON.parse(execFileSync('bpftool', ['prog', 'show', '--json'], { encoding: 'utf8' })) as Array<{
    id: number;
    name?: string;
    run_cnt?: number;
    run_time_ns?: number;
  }>;
  const out = new Map<number, ProgStat>();
  for (const p of all) {
    if (!ids.has(p.id)) continue;
    out.set(p.id, { name: p.name ?? String(p.id), runs: p.run_cnt ?? 0, ns: p.run_time_ns ?? 0 });
  }
  return out;
}

async function profile(w: Workload) {
  const source = await createBpfSource({ descendantsOf: process.pid, bootId, addonPath: process.env.BENCH_ADDON });
  await source.start(() => {});
  const before = ourPrograms();
  const run = await w.run();
  const after = ourPrograms();
  source.drain();
  await source.stop();
  const rows = [...after].map(([id, a]) => {
    const b = before.get(id) ?? { runs: 0, ns: 0 };
    return { name: a.name, runs: a.runs - b.runs, ns: a.ns - b.ns };
  });
  rows.sort((x, y) => y.ns - x.ns);
  const per = w.processes || 1;
  const unit = w.processes ? 'ns per process' : 'ns in all';
  console.log(`\n${w.name}, kernel.bpf_stats_enabled=1; load average ${loadavg()[0]!.toFixed(2)}`);
  console.log(`program              runs   ns/run ${unit.padStart(16)}`);
  let total = 0;
  for (const r of rows.filter((x) => x.runs > 0)) {
    total += r.ns;
    console.log(
      `${r.name.padEnd(18)} ${String(r.runs).padStart(8)} ${(r.ns / r.runs).toFixed(0).padStart(8)} ${(r.ns / per).toFixed(0).padStart(16)}`,
    );
  }
  console.log(
    `all programs: ${(total / per).toFixed(0)} ${unit}; ${((total / 1e6 / run.cpuMs) * 100).toFixed(2)}% of the workload's ` +
      `${run.cpuMs.toFixed(0)} ms CPU (user + system, wait4)`,
  );
}

process.env.PATH = `${process.env.PATH}:/usr/sbin`;
writeFileSync(STATS, '1');
try {
  await profile(execStorm(PROCESSES));
  const tools = bwaSamtools();
  if (typeof tools === 'string') console.log(tools);
  else await profile(tools);
} finally {
  writeFileSync(STATS, '0');
}
