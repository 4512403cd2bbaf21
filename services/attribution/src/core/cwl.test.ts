import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toilStep } from './cwl.ts';
import { EventBuilder, fixtureEvents, outline, replay } from './test-events.ts';

// fixtures/cwltool-*.strace.jsonl: cwltool 3.1 (Debian 12) running test/workflows/cwl/align.cwl
// (bwa index, scattered bwa mem | samtools view, scattered samtools sort) under strace -f.
test('recorded cwltool run: steps and scatter jobs from the runner log, bound by output dir', () => {
  const { tree } = replay(fixtureEvents('cwltool-ok.strace.jsonl'), null);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'cwltool');
  assert.equal(run.pipeline, 'align');
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(outline(tree), [
    'index: index=succeeded',
    'map: map=succeeded, map_2=succeeded, map_3=succeeded',
    'sort: sort=succeeded, sort_2=succeeded, sort_3=succeeded',
  ]);
  assert.deepEqual(run.steps[1]!.tasks[0]!.tools.map((t) => t.name).sort(), ['bwa mem', 'samtools view']);
  // `nodejs --eval` expression engines are not jobs.
  assert.ok(!run.steps.some((s) => s.name.includes('node')));
});

test('recorded failing cwltool run: the failing scatter job and the run fail', () => {
  const { tree } = replay(fixtureEvents('cwltool-fail.strace.jsonl'), null);
  assert.equal(tree.runs[0]!.status, 'failed');
  assert.deepEqual(outline(tree), ['index: index=succeeded', 'map: map=succeeded, map_2=failed']);
});

test('toil-cwl-runner: workers are tasks, plumbing workers are not, names from the leader log', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['/usr/bin/python3', '/usr/local/bin/toil-cwl-runner', '--jobStore', './js', 'wf.cwl', 'job.yml'], {
    cwd: '/r',
  });
  b.spawn(
    2,
    1,
    ['/usr/bin/python3', '/usr/local/bin/_toil_worker', 'CWLWorkflow', 'file:/r/js', 'kind-CWLWorkflow/instance-aaaa'],
    { cwd: '/r' },
  ).exit(2);
  b.log(
    1,
    "[2025-11-22T10:00:00+0000] [MainThread] [I] [toil.leader] Issued job 'CWLJob' bwa_mem.cwl kind-CWLJob/instance-bbbb v1 with job batch system ID: 1 and disk: 3.0 Gi, memory: 2.0 Gi, cores: 1\n",
  );
  b.spawn(
    3,
    1,
    ['/usr/bin/python3', '/usr/local/bin/_toil_worker', 'CWLJob', 'file:/r/js', 'kind-CWLJob/instance-bbbb'],
    { cwd: '/tmp/toil-w1' },
  );
  b.spawn(4, 3, ['bwa', 'mem', 'ref.fa', 'a.fq'], { cwd: '/tmp/toil-w1/out' }).exit(4).exit(3);
  b.spawn(
    5,
    1,
    ['/usr/bin/python3', '/usr/local/bin/_toil_worker', 'CWLJob', 'file:/r/js', 'kind-CWLJob/instance-cccc'],
    { cwd: '/tmp/toil-w2' },
  );
  b.spawn(6, 5, ['samtools', 'sort', '-o', 'x.bam', 'y.bam'], { cwd: '/tmp/toil-w2/out' }).exit(6, 1).exit(5, 1);
  b.exit(1, 1);
  const { tree } = replay(b.events, null);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'toil');
  assert.equal(run.pipeline, 'wf');
  assert.deepEqual(outline(tree), ['bwa_mem: bwa_mem.cwl=succeeded', 'CWLJob: CWLJob=failed']);
  assert.equal(run.steps[1]!.tasks[0]!.tools[0]!.name, 'samtools sort');
});

test('cwltool --version is not a run', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['cwltool', '--version']).exit(1);
  const { tree } = replay(b.events, null);
  assert.equal(tree.runs[0]!.engine, 'script');
});

test("toil 5.9's job names: the CWL step, for plain steps and scatter shards", () => {
  assert.equal(toilStep('align.cwl.index.index.cwl'), 'index');
  assert.equal(toilStep('align.cwl.0.map.cwl'), 'map');
  assert.equal(toilStep('align.cwl.12.bwa.mem.cwl'), 'bwa.mem');
  assert.equal(toilStep('outer.cwl.sub.sub.cwl.3.sort.cwl'), 'sort');
  assert.equal(toilStep('bwa_mem.cwl'), 'bwa_mem');
});
