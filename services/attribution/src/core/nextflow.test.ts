import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TelemetryEvent } from '@tracer/events';
import { nextflowWorkDir, splitTaskName } from './nextflow.ts';
import { EventBuilder, fixtureEvents, fixtureText, outline, replay } from './test-events.ts';

// fixtures/nextflow-*.strace.jsonl: test/workflows/nextflow/nextflow/cli/Launcher.java run as
// `java -Xms64m -Dfile.encoding=UTF-8 -cp DIR nextflow.cli.Launcher run align.nf -name tiny_turing`,
// real .command.run wrappers under strace -f. The facts files hold the .command.run headers,
// .exitcode files and .nextflow.log as they were on disk after the run.
const facts = (v: string) => JSON.parse(fixtureText(`nextflow-${v}.facts.json`)) as Record<string, string>;
const noLogs = (events: TelemetryEvent[]) => events.filter((e) => e.type !== 'log.chunk');

const OK = [
  'INDEX: INDEX (lambda)=succeeded',
  'ALIGN: ALIGN (A)=succeeded, ALIGN (B)=succeeded, ALIGN (C)=succeeded',
  'SORT: SORT (A)=succeeded, SORT (B)=succeeded, SORT (C)=succeeded',
];

test('recorded Nextflow-layout run: head = run, each .command.run subtree = task, names from the log', () => {
  const { tree } = replay(fixtureEvents('nextflow-ok.strace.jsonl'), null);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'nextflow');
  assert.equal(run.pipeline, 'align');
  assert.equal(run.name, 'tiny_turing');
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(outline(tree), OK);
  const align = run.steps[1]!.tasks[0]!;
  assert.match(align.engineTaskId!, /^[0-9a-f]{2}\/[0-9a-f]{30}$/);
  assert.ok(align.workDir!.endsWith(align.engineTaskId!));
  // The wrapper's bash/tee/touch processes are in the task; the tools are what .command.sh ran.
  assert.deepEqual(align.tools.map((t) => t.name).sort(), ['bwa mem', 'samtools view']);
  assert.ok(align.resources.processCount > 10);
  assert.deepEqual(
    run.steps[2]!.tasks[0]!.tools.map((t) => t.name),
    ['samtools sort', 'samtools index'],
  );
  // Submitted-to-started time from the head's `Submitted process` lines.
  assert.ok(align.queueNs !== null && align.queueNs >= 0);
});

test('from argv and cwd alone: one task per work dir, named by its hash', () => {
  const { tree } = replay(noLogs(fixtureEvents('nextflow-ok.strace.jsonl')), null);
  const run = tree.runs[0]!;
  assert.deepEqual(
    run.steps.map((s) => `${s.name}:${s.taskCount}`),
    ['unknown:7'],
  );
  for (const t of run.steps[0]!.tasks) {
    assert.match(t.name, /^[0-9a-f]{2}\/[0-9a-f]{6}$/);
    assert.equal(t.status, 'succeeded');
  }
});

test('file facts: the `# NEXTFLOW TASK:` header names tasks, .exitcode decides status, .nextflow.log the session', () => {
  const r = replay(noLogs(fixtureEvents('nextflow-ok.strace.jsonl')), facts('ok'));
  assert.deepEqual(outline(r.tree), OK);
  assert.match(r.tree.runs[0]!.attributes.sessionId!, /^[0-9a-f-]{36}$/);
  assert.ok(r.wants.some((w) => w.path.endsWith('/.command.run') && w.maxBytes <= 4096));
  assert.ok(r.wants.some((w) => w.path.endsWith('/.exitcode')));
});

test('recorded failing run: the failed ALIGN (B) task, and no SORT (B)', () => {
  const { tree } = replay(noLogs(fixtureEvents('nextflow-fail.strace.jsonl')), facts('fail'));
  assert.equal(tree.runs[0]!.name, 'sad_euler');
  assert.equal(tree.runs[0]!.status, 'failed');
  assert.deepEqual(outline(tree), [
    'INDEX: INDEX (lambda)=succeeded',
    'ALIGN: ALIGN (A)=succeeded, ALIGN (B)=failed, ALIGN (C)=succeeded',
    'SORT: SORT (A)=succeeded, SORT (C)=succeeded',
  ]);
  const b = tree.runs[0]!.steps[1]!.tasks.find((t) => t.name === 'ALIGN (B)')!;
  assert.equal(b.exitCode, 1);
});

test('the nextflow launcher script, then java: one run; no -name: name from .nextflow.log', () => {
  const b = new EventBuilder().start(10);
  b.exec(
    10,
    ['bash', '/usr/local/bin/nextflow', 'run', 'nf-core/rnaseq', '-profile', 'test,docker', '--outdir', 'res'],
    { cwd: '/runs/1', exe: '/usr/bin/bash' },
  );
  b.spawn(11, 10, ['java', '-version']).exit(11);
  b.exec(
    10,
    [
      'java',
      '-XX:+UseG1GC',
      '-cp',
      '/root/.nextflow/framework/23.10.1/nextflow-23.10.1-one.jar',
      'nextflow.cli.Launcher',
      'run',
      'nf-core/rnaseq',
      '-profile',
      'test,docker',
      '--outdir',
      'res',
    ],
    { cwd: '/runs/1' },
  );
  const wd = '/runs/1/work/3f/0123456789abcdef0123456789abcd';
  b.spawn(12, 10, ['/bin/bash', '-c', '/bin/bash -ue .command.run &> .command.log'], { cwd: wd, exe: '/usr/bin/bash' });
  b.exec(12, ['/bin/bash', '-ue', '.command.run'], { cwd: wd, ppid: 10 });
  b.fork(13, 12)
    .fork(14, 13)
    .exec(14, ['/bin/bash', '-ue', `${wd}/.command.sh`], { cwd: wd, ppid: 13 });
  b.spawn(15, 14, ['salmon', 'quant', '-i', 'idx', '-l', 'A'], { cwd: wd });
  b.exit(15, 0, { cpuMs: 1500, peakMiB: 800 }).exit(14).exit(13).exit(12).exit(10);
  const log =
    'Nov-22 10:00:00.000 [main] INFO  nextflow.cli.CmdRun - Launching `nf-core/rnaseq` [happy_curie] DSL2 - revision: abc\nSession UUID: 0e5a3d2c-1111-4222-8333-944455556666\n';
  const { tree } = replay(b.events, {
    '/runs/1/.nextflow.log': log,
    [`${wd}/.command.run`]:
      '#!/bin/bash\n# NEXTFLOW TASK: NFCORE_RNASEQ:RNASEQ:QUANTIFY_SALMON:SALMON_QUANT (WT_REP1)\nset -e\n',
    [`${wd}/.exitcode`]: '0',
  });
  assert.equal(tree.runs.length, 1);
  const run = tree.runs[0]!;
  assert.equal(run.pipeline, 'nf-core/rnaseq');
  assert.equal(run.name, 'happy_curie');
  assert.equal(run.attributes.profile, 'test,docker');
  assert.deepEqual(outline(tree), [
    'NFCORE_RNASEQ:RNASEQ:QUANTIFY_SALMON:SALMON_QUANT: NFCORE_RNASEQ:RNASEQ:QUANTIFY_SALMON:SALMON_QUANT (WT_REP1)=succeeded',
  ]);
  const task = run.steps[0]!.tasks[0]!;
  assert.equal(task.engineTaskId, '3f/0123456789abcdef0123456789abcd');
  assert.equal(task.tools[0]!.name, 'salmon quant');
  assert.equal(task.resources.cpuNs, 1.5e9);
});

test('a task killed by a signal is killed, whatever .exitcode says', () => {
  const b = new EventBuilder().start(10);
  b.exec(10, ['java', '-cp', 'x.jar', 'nextflow.cli.Launcher', 'run', 'main.nf'], { cwd: '/p' });
  const wd = '/p/work/aa/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
  b.spawn(12, 10, ['/bin/bash', '-ue', '.command.run'], { cwd: wd });
  b.spawn(13, 12, ['bwa', 'mem', 'r', 'q'], { cwd: wd });
  b.oom(13).exit(13, 0, { signal: 9 }).exit(12, 137).exit(10, 1);
  const { tree } = replay(b.events, { [`${wd}/.exitcode`]: '137' });
  const task = tree.runs[0]!.steps[0]!.tasks[0]!;
  assert.equal(task.status, 'killed');
  assert.equal(task.oomKilled, true);
  assert.equal(tree.runs[0]!.pipeline, 'p', 'main.nf is named after its folder');
});

test('work-dir hashes and task names', () => {
  const img = (cwd: string, argv: string[]) => ({
    ts: 0,
    exe: '/bin/bash',
    argv,
    cwd,
    env: {},
    containerId: null,
    cgroupId: null,
    uid: 0,
  });
  assert.deepEqual(nextflowWorkDir(img('/w/work/ab/cdef0123456789abcdef0123456789', ['bash', '.command.run'])), {
    dir: '/w/work/ab/cdef0123456789abcdef0123456789',
    hash: 'ab/cdef0123456789abcdef0123456789',
  });
  // AWS Batch / scratch: the work dir is only in argv.
  assert.equal(
    nextflowWorkDir(img('/tmp/nxf.XXXX', ['bash', '/efs/work/ab/cdef0123456789abcdef0123456789/.command.run']))!.hash,
    'ab/cdef0123456789abcdef0123456789',
  );
  assert.deepEqual(splitTaskName('FASTQC (sample 1)'), { step: 'FASTQC', name: 'FASTQC (sample 1)' });
  assert.deepEqual(splitTaskName('MULTIQC'), { step: 'MULTIQC', name: 'MULTIQC' });
});
