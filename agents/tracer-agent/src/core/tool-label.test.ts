import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isShellOrWrapper, labelTool } from './tool-label.ts';

const cases: Array<[string[], string]> = [
  [['/usr/bin/bwa', 'mem', '-t', '4', 'ref.fa', 'r1.fq'], 'bwa mem'],
  [['samtools', 'sort', '-o', 'x.bam'], 'samtools sort'],
  [['samtools'], 'samtools'],
  [['/bin/bash', '-c', 'cd /w && bwa mem ref.fa r.fq > out.sam 2>&1'], 'bwa mem'],
  [['sh', '-c', 'FOO=1 exec time -p python3 -u align.py --x'], 'python3 align.py'],
  [['bash', '-euo', 'pipefail', '-c', 'set -x; samtools index a.bam'], 'samtools index'],
  [['bash', '-c', 'echo hi >&2; exit 3'], 'echo'],
  [['bash', '-c', 'exit 3'], 'bash'],
  [['/bin/bash', './pipeline.sh', 'arg'], 'bash pipeline.sh'],
  [['sh', '-e', '.command.sh'], 'sh .command.sh'],
  [['-bash'], 'bash'],
  [['env', '-u', 'X', 'A=B', 'C=D', 'STAR', '--runMode', 'alignReads'], 'STAR'],
  [['env', '-S', 'python3 -u tool.py', 'a'], 'python3 tool.py'],
  [['/usr/bin/time', '-f', '%M', 'fastqc', 'a.fq'], 'fastqc'],
  [['nice', '-n', '10', 'ionice', '-c3', 'gzip', '-9', 'x'], 'gzip'],
  [['nice', '-n10', 'gzip'], 'gzip'],
  [['timeout', '-s', 'KILL', '30s', 'sleep', '60'], 'sleep'],
  [['timeout', '5', 'bash', '-c', 'sleep 10'], 'sleep'],
  [['stdbuf', '-oL', 'nohup', 'taskset', '0x3', 'bowtie2', '-x', 'idx'], 'bowtie2'],
  [['xargs', '-n', '1', '-P', '4', 'gzip'], 'gzip'],
  [['conda', 'run', '-n', 'qc', 'multiqc', '.'], 'multiqc'],
  [['python3', '-m', 'snakemake', '-c2'], 'python3 -m snakemake'],
  [['python', '-c', 'print(1)'], 'python -c'],
  [['Rscript', '--vanilla', 'deseq.R'], 'Rscript deseq.R'],
  [['java', '-Xmx4g', '-jar', '/opt/picard.jar', 'MarkDuplicates', 'I=a'], 'java picard.jar MarkDuplicates'],
  [['java', '-cp', 'x.jar', 'nextflow.cli.Launcher', 'run'], 'java Launcher'],
  [['bash', '-c', "if [ -f x ]; then gzip -d 'my file.gz'; fi"], 'gzip'],
  [['bash', '-c', 'for s in $(ls *.fq) `echo x`; do fastqc "$s"; done'], 'fastqc'],
  [['bash', '-c', 'for i in $(seq 5000); do /bin/true; done'], 'true'],
];

for (const [argv, label] of cases) {
  test(`labels ${JSON.stringify(argv)} as ${label}`, () => assert.equal(labelTool(argv), label));
}

test('falls back to the exe when argv is empty', () => {
  assert.equal(labelTool([], '/usr/bin/samtools'), 'samtools');
  assert.equal(labelTool(undefined), '?');
});

test('knows shells and wrappers', () => {
  assert.equal(isShellOrWrapper(['bash', '-c', 'x']), true);
  assert.equal(isShellOrWrapper(['/usr/bin/time', 'x']), true);
  assert.equal(isShellOrWrapper(['bwa']), false);
});
