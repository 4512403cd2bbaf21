import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

test('the same task run again after a failure: one retry insight; success resolves the failure', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'retry.sh'])
    .at(1)
    .exec(101, ['fetch-ref', 'hg38'], { ppid: 100 })
    .log(101, 'curl: (28) Operation timed out after 30000 milliseconds\n')
    .at(31)
    .exit(101, { code: 28 })
    .at(32)
    .exec(102, ['fetch-ref', 'hg38'], { ppid: 100 })
    .at(40)
    .exit(102, { code: 0 })
    .at(40.1)
    .exit(100, { code: 0 });
  const insights = analyzeTrace(t.events);
  assert.deepEqual(
    insights.map((i) => i.kind),
    ['retry'],
  );
  assert.match(insights[0]!.summary, /attempt 2 .* after 1 failed attempt\(s\) \(exit 28\); this attempt succeeded/);
});

test('attribution task keys make Nextflow-style retries (new work dir) one task', () => {
  const t = traceBuilder();
  const attribution = (p: { argv: string[] }) =>
    p.argv[0] === 'bash' ? { taskKey: 'FASTQC (sample1)', step: 'FASTQC', isTaskRoot: true } : undefined;
  t.at(0)
    .exec(10, ['nextflow', 'run', 'main.nf'])
    .at(1)
    .exec(101, ['bash', '.command.run'], { ppid: 10, cwd: '/work/ab/12' })
    .log(101, 'java.lang.OutOfMemoryError: Java heap space\n')
    .at(5)
    .exit(101, { code: 1 })
    .at(6)
    .exec(102, ['bash', '.command.run'], { ppid: 10, cwd: '/work/cd/34' })
    .at(9)
    .exit(102, { code: 0 })
    .at(10)
    .exit(10, { code: 0 });
  const insights = analyzeTrace(t.events, { attribution });
  const kinds = insights.map((i) => [i.kind, i.state]);
  assert.deepEqual(kinds, [
    ['nonzero_exit', 'resolved'],
    ['retry', 'open'],
  ]);
  assert.equal(insights[0]!.category, 'java_heap');
});

test('the same command run twice, both successful, is no retry', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'x.sh'])
    .exec(101, ['gzip', '-t', 'a.gz'], { ppid: 100 })
    .exit(101)
    .at(1)
    .exec(102, ['gzip', '-t', 'a.gz'], { ppid: 100 })
    .exit(102)
    .exit(100);
  assert.deepEqual(analyzeTrace(t.events), []);
});

test("the same command in two jobs' shells, one failing, is no retry (before any task is known)", () => {
  // Snakemake: `bwa mem ... | samtools view -b -` for samples B (fails) and C, one after the other.
  const t = traceBuilder();
  t.at(0).exec(100, ['snakemake', '-c2']);
  for (const [shell, pid, code, sample] of [
    [110, 111, 1, 'B'],
    [120, 121, 0, 'C'],
  ] as const) {
    t.exec(shell, ['/usr/bin/bash', '-c', `set -euo pipefail;  samtools view -b - > ${sample}.bam`], { ppid: 100 })
      .exec(pid, ['samtools', 'view', '-b', '-'], { ppid: shell })
      .exit(pid, { code })
      .exit(shell, { code });
  }
  t.exit(100, { code: 1 });
  assert.deepEqual(
    analyzeTrace(t.events).map((i) => i.kind),
    ['nonzero_exit'],
  );
});

test("toil's per-attempt launcher (sh -c _toil_worker ...) is no second retry of the task it starts", () => {
  const t = traceBuilder();
  const worker = ['/bin/sh', '-c', '_toil_worker CWLJob file:/w/js kind-CWLJob/instance-952sql3a'];
  const attribution = (p: { argv: string[]; pid: number }) =>
    p.argv[1] === '/usr/bin/_toil_worker'
      ? { taskKey: 'kind-CWLJob/instance-952sql3a', taskId: `attempt-${p.pid}`, step: 'map', isTaskRoot: true }
      : p.argv[1] === '/usr/bin/toil-cwl-runner'
        ? { isRunRoot: true }
        : undefined;
  t.at(0).exec(10, ['/usr/bin/python3', '/usr/bin/toil-cwl-runner', 'align.cwl', 'job.yml']);
  for (const [at, pid] of [
    [1, 100],
    [5, 200],
  ] as const) {
    t.at(at)
      .exec(pid, worker, { ppid: 10 })
      .exec(pid + 1, ['/usr/bin/python3', '/usr/bin/_toil_worker', ...worker[2]!.split(' ').slice(1)], { ppid: pid })
      .exec(pid + 2, ['/bin/sh', '-c', 'test -s B.fq && bwa mem ref.fa B.fq'], { ppid: pid + 1 })
      .at(at + 1)
      .exit(pid + 2, { code: 1 })
      .exit(pid + 1, { code: 1 })
      .exit(pid, { code: 1 });
  }
  t.at(9).exit(10, { code: 1 });
  const retries = analyzeTrace(t.events, { attribution }).filter((i) => i.kind === 'retry' && i.state === 'open');
  assert.deepEqual(
    retries.map((i) => [i.pid, i.summary.replace(/ \(pid.*?\)/, '')]),
    [[201, '_toil_worker is attempt 2 of the same task after 1 failed attempt(s) (exit 1); this attempt failed.']],
  );
});
