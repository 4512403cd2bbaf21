// The two workloads of the overhead benchmarks (issue 3): an exec storm of short processes,
// and a real tool workload, bwa mem + samtools sort on Debian's bowtie2-examples data.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Run, timed } from './timed.ts';

export interface Workload {
  name: string;
  /** How many processes one run starts, for per-process figures (0: not a process storm). */
  processes: number;
  run: () => Promise<Run>;
}

export function execStorm(processes = 2000): Workload {
  return {
    name: `exec storm (${processes.toLocaleString('en')} x /bin/true from sh)`,
    processes,
    run: () => timed('/bin/sh', ['-c', `i=0; while [ $i -lt ${processes} ]; do /bin/true; i=$((i+1)); done`]),
  };
}

const EXAMPLES = '/usr/share/doc/bowtie2/examples';

/** bwa mem + samtools sort of the lambda phage reads, or why it cannot run here. */
export function bwaSamtools(): Workload | string {
  if (!existsSync(`${EXAMPLES}/reference/lambda_virus.fa.gz`)) {
    return `bwa/samtools workload skipped: ${EXAMPLES} missing (apt-get install bowtie2-examples bwa samtools)`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tracer-bench-'));
  execFileSync(
    '/bin/sh',
    ['-c', `zcat ${EXAMPLES}/reference/lambda_virus.fa.gz > ref.fa && bwa index ref.fa 2>/dev/null`],
    {
      cwd: dir,
    },
  );
  const reads = `${EXAMPLES}/reads/reads_1.fq.gz ${EXAMPLES}/reads/reads_2.fq.gz`;
  const pipeline = `bwa mem -t 2 ref.fa ${reads} 2>/dev/null | samtools sort -@ 1 -o out.bam - 2>/dev/null`;
  return {
    name: 'bwa mem + samtools sort (bowtie2-examples lambda)',
    processes: 0,
    run: () => timed('/bin/sh', ['-c', pipeline], dir),
  };
}
