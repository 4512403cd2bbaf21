// The same workload untraced and traced (all programs attached, this process's subtree
// captured), interleaved so drift hits both alike; median ratios of wall time and of the
// workload's own CPU time (GNU time: BPF programs run in the traced processes, so their
// cost lands there; the CPU ratio is steadier on a busy host), and the agent's CPU.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBpfSource } from '../../agents/tracer-agent/src/adapters/bpf-source.ts';
import { median } from './capture.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const EXAMPLES = '/usr/share/doc/bowtie2/examples';
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');

interface Run {
  wallMs: number;
  cpuMs: number;
}

function time(cmd: string, args: string[], cwd?: string): Promise<Run> {
  const t0 = performance.now();
  let err = '';
  return new Promise((resolve, reject) => {
    const c = spawn('/usr/bin/time', ['-f', '%U %S', cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], cwd });
    c.stderr.on('data', (d) => (err += d));
    c.on('exit', (code) => {
      const [u, s] = err.trim().split('\n').at(-1)!.split(' ').map(Number);
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${err}`));
      else resolve({ wallMs: performance.now() - t0, cpuMs: (u! + s!) * 1000 });
    });
  });
}

async function compare(name: string, run: () => Promise<Run>) {
  const wall: number[] = [];
  const cpu: number[] = [];
  const plain: number[] = [];
  const agentCpu: number[] = [];
  await run(); // warm caches
  for (let i = 0; i < ROUNDS; i++) {
    const untraced = await run();
    const source = await createBpfSource({ descendantsOf: process.pid, bootId });
    let records = 0;
    await source.start((b) => (records += b.length));
    const before = process.cpuUsage();
    const traced = await run();
    source.drain();
    const used = process.cpuUsage(before);
    await source.stop();
    plain.push(untraced.wallMs);
    wall.push(traced.wallMs / untraced.wallMs);
    cpu.push(traced.cpuMs / Math.max(untraced.cpuMs, 10));
    agentCpu.push((used.user + used.system) / 1000 / traced.wallMs);
  }
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(3)}-${Math.max(...xs).toFixed(3)}`;
  console.log(
    `${name}: untraced median ${median(plain).toFixed(0)} ms; traced/untraced median wall ${median(wall).toFixed(3)} ` +
      `(${spread(wall)}), workload CPU ${median(cpu).toFixed(3)} (${spread(cpu)}); agent CPU ` +
      `${(median(agentCpu) * 100).toFixed(1)}% of one core (${ROUNDS} pairs); load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  );
}

await compare('exec storm (2,000 x /bin/true from sh)', () =>
  time('/bin/sh', ['-c', 'i=0; while [ $i -lt 2000 ]; do /bin/true; i=$((i+1)); done']),
);

if (existsSync(`${EXAMPLES}/reference/lambda_virus.fa.gz`)) {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-bench-'));
  execFileSync(
    '/bin/sh',
    ['-c', `zcat ${EXAMPLES}/reference/lambda_virus.fa.gz > ref.fa && bwa index ref.fa 2>/dev/null`],
    { cwd: dir },
  );
  const pipeline = `bwa mem -t 2 ref.fa ${EXAMPLES}/reads/reads_1.fq.gz ${EXAMPLES}/reads/reads_2.fq.gz 2>/dev/null | samtools sort -@ 1 -o out.bam - 2>/dev/null`;
  await compare('bwa mem + samtools sort (bowtie2-examples lambda)', () => time('/bin/sh', ['-c', pipeline], dir));
} else {
  console.log(`bwa/samtools workload skipped: ${EXAMPLES} missing (apt-get install bowtie2-examples bwa samtools)`);
}
