import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBuilder, outline, replay } from './test-events.ts';

test('a plain script: the root is the run, each command it starts is a step, repeats are tasks', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['bash', 'align.sh', 'samples.txt'], { cwd: '/proj' });
  b.spawn(2, 1, ['mkdir', '-p', 'out']).exit(2);
  b.spawn(3, 1, ['bwa', 'index', 'ref.fa']).exit(3);
  for (const [pid, s] of [
    [10, 'A'],
    [20, 'B'],
  ] as const) {
    // `bwa mem ... | samtools view` inside a loop: subshells the root forked count as the root.
    b.fork(pid, 1);
    b.spawn(pid + 1, pid, ['bwa', 'mem', 'ref.fa', `${s}.fq`]).exit(pid + 1);
    b.spawn(pid + 2, pid, ['samtools', 'view', '-b', '-']).exit(pid + 2);
    b.exit(pid);
  }
  b.spawn(30, 1, ['python3', 'scripts/report.py', 'out'], { exe: '/usr/bin/python3.11' });
  b.spawn(31, 30, ['Rscript', 'plot.R']).exit(31).exit(30, 2);
  b.exit(1, 2);
  const { tree } = replay(b.events, null);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'script');
  assert.equal(run.pipeline, 'align.sh');
  assert.equal(run.status, 'failed');
  assert.deepEqual(outline(tree), [
    'bwa index: bwa index=succeeded',
    'bwa mem: bwa mem=succeeded, bwa mem (2)=succeeded',
    'samtools view: samtools view=succeeded, samtools view (2)=succeeded',
    'report.py: report.py=failed',
  ]);
  assert.deepEqual(
    run.steps[3]!.tasks[0]!.tools.map((t) => t.name),
    ['report.py', 'plot.R'],
  );
});

test('--pipeline/--run labels win over any detector', () => {
  const b = new EventBuilder().start(1, { pipeline: 'align', run: 'nightly-42' });
  b.exec(1, ['/usr/bin/python3', '/usr/bin/snakemake', '-c2'], { cwd: '/w' });
  b.log(1, 'rule x:\n    output: o\n    jobid: 1\n\nFinished job 1.\n');
  b.exit(1);
  const { tree } = replay(b.events, null);
  assert.equal(tree.runs[0]!.engine, 'snakemake');
  assert.equal(tree.runs[0]!.pipeline, 'align');
  assert.equal(tree.runs[0]!.name, 'nightly-42');
});

test('`tracer run -- time snakemake`: the wrapper run becomes the engine run', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['time', 'snakemake', '-c2'], { cwd: '/w' });
  b.spawn(2, 1, ['/usr/bin/python3', '/usr/bin/snakemake', '-c2'], { cwd: '/w' });
  b.spawn(3, 2, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools index x.bam'], { cwd: '/w' });
  b.exit(3).exit(2).exit(1);
  const { tree } = replay(b.events, null);
  assert.equal(tree.runs.length, 1);
  assert.equal(tree.runs[0]!.engine, 'snakemake');
  assert.deepEqual(outline(tree), ['samtools index: samtools index=succeeded']);
});

test('a script that starts an engine after other work: the engine run is nested under it', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['bash', 'run.sh']);
  b.spawn(2, 1, ['fastqc', 'a.fq']).exit(2);
  b.spawn(3, 1, ['/usr/bin/python3', '/usr/bin/snakemake', '-c2']);
  b.spawn(4, 3, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools index x.bam']).exit(4);
  b.exit(3).exit(1);
  const { tree } = replay(b.events, null);
  assert.deepEqual(
    tree.runs.map((r) => r.engine),
    ['script', 'snakemake'],
  );
  assert.equal(tree.runs[1]!.parentRunId, tree.runs[0]!.id);
  assert.deepEqual(
    tree.runs[0]!.steps.map((s) => s.name),
    ['fastqc', 'snakemake'],
  );
});

test('a single program traced on its own is its own step', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['bwa', 'mem', '-t', '2', 'ref.fa', 'a.fq']).exit(1);
  const { tree } = replay(b.events, null);
  assert.deepEqual(outline(tree), ['bwa mem: bwa mem=succeeded']);
  assert.deepEqual(
    tree.runs[0]!.steps[0]!.tasks[0]!.tools.map((t) => [t.name, t.pids]),
    [['bwa mem', [1]]],
  );
});

test('`sh -c` exec-ing its last command: the root becomes the step it runs', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['sh', '-c', 'mkdir -p o && samtools sort -o o/x.bam x.bam']);
  b.spawn(2, 1, ['mkdir', '-p', 'o']).exit(2);
  b.exec(1, ['samtools', 'sort', '-o', 'o/x.bam', 'x.bam']).exit(1);
  const { tree } = replay(b.events, null);
  assert.deepEqual(outline(tree), ['samtools sort: samtools sort=succeeded']);
});
