// The same workload untraced and traced (all programs attached, this process's subtree
// captured), interleaved so drift hits both alike; the median ratio of wall times.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { createBpfSource } from '../../agents/tracer-agent/src/adapters/bpf-source.ts';
import { median } from './capture.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const EXAMPLES = '/usr/share/doc/bowtie2/examples';
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8');

function time(cmd: string, args: string[], cwd?: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) =>
    spawn(cmd, args, { stdio: 'ignore', cwd }).on('exit', (code) =>
      code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${cmd} exited ${code}`)),
    ),
  );
}

async function compare(name: string, run: () => Promise<number>) {
  const ratios: number[] = [];
  const plain: number[] = [];
  await run(); // warm caches
  for (let i = 0; i < ROUNDS; i++) {
    const untraced = await run();
    const source = await createBpfSource({ descendantsOf: process.pid, bootId });
    await source.start(() => {});
    const traced = await run();
    await source.stop();
    plain.push(untraced);
    ratios.push(traced / untraced);
  }
  console.log(`${name}: untraced median ${median(plain).toFixed(0)} ms; traced/untraced median ${median(ratios).toFixed(3)} over ${ROUNDS} pairs`);
}

await compare('exec storm (2,000 x /bin/true from sh)', () =>
  time('/bin/sh', ['-c', 'i=0; while [ $i -lt 2000 ]; do /bin/true; i=$((i+1)); done']),
);

if (existsSync(`${EXAMPLES}/reference/lambda_virus.fa.gz`)) {
  const dir = mkdtempSync(join(tmpdir(), 'tracer-bench-'));
  execFileSync('/bin/sh', ['-c', `zcat ${EXAMPLES}/reference/lambda_virus.fa.gz > ref.fa && bwa index ref.fa 2>/dev/null`], { cwd: dir });
  const pipeline = `bwa mem -t 2 ref.fa ${EXAMPLES}/reads/reads_1.fq.gz ${EXAMPLES}/reads/reads_2.fq.gz 2>/dev/null | samtools sort -@ 1 -o out.bam - 2>/dev/null`;
  await compare('bwa mem + samtools sort (bowtie2-examples lambda)', () => time('/bin/sh', ['-c', pipeline], dir));
} else {
  console.log(`bwa/samtools workload skipped: ${EXAMPLES} missing (apt-get install bowtie2-examples bwa samtools)`);
}
