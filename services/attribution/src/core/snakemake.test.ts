import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TelemetryEvent } from '@tracer/events';
import { parseSnakefile } from './snakemake.ts';
import { EventBuilder, fixtureEvents, fixtureText, outline, replay } from './test-events.ts';

// The job list Snakemake itself printed for the recorded runs (fixtures/snakemake-7-*.strace.jsonl,
// recorded with strace from `snakemake -c2` on test/workflows/snakemake/Snakefile).
const OK_JOBS = [
  'bwa_index: bwa_index=succeeded',
  'bwa_map: bwa_map (sample=C)=succeeded, bwa_map (sample=A)=succeeded, bwa_map (sample=B)=succeeded',
  'samtools_sort: samtools_sort (sample=A)=succeeded, samtools_sort (sample=C)=succeeded, samtools_sort (sample=B)=succeeded',
  'samtools_index: samtools_index (sample=C)=succeeded, samtools_index (sample=A)=succeeded, samtools_index (sample=B)=succeeded',
  'stats: stats=succeeded',
  'all: all=succeeded',
];

const noLogs = (events: TelemetryEvent[]) => events.filter((e) => e.type !== 'log.chunk');
const runDir = (events: TelemetryEvent[]) => (events.find((e) => e.type === 'process.exec') as { cwd: string }).cwd;

test('recorded Snakemake 7 run: run = snakemake, steps = rules, tasks = jobs, tools inside', () => {
  const { tree } = replay(fixtureEvents('snakemake-7-ok.strace.jsonl'));
  assert.equal(tree.runs.length, 1);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'snakemake');
  assert.equal(run.status, 'succeeded');
  assert.equal(run.pipeline, 'rec-smk-ok');
  assert.deepEqual(outline(tree), OK_JOBS);
  const map = run.steps.find((s) => s.name === 'bwa_map')!.tasks.find((t) => t.name === 'bwa_map (sample=A)')!;
  assert.equal(map.engineTaskId, '3');
  assert.deepEqual(map.tools.map((t) => t.name).sort(), ['bwa mem', 'samtools view']);
  const stats = run.steps.find((s) => s.name === 'stats')!.tasks[0]!;
  assert.deepEqual(
    stats.tools.map((t) => t.name),
    ['samtools flagstat', 'samtools flagstat', 'samtools flagstat'],
  );
  // The ILP scheduler's `cbc` children are Snakemake's own work, not jobs.
  assert.ok(!run.steps.some((s) => s.name.includes('cbc')));
});

test('recorded failing run: exactly the failed job is failed, the run failed', () => {
  const { tree } = replay(fixtureEvents('snakemake-7-fail.strace.jsonl'));
  const run = tree.runs[0]!;
  assert.equal(run.status, 'failed');
  assert.equal(run.exitCode, 1);
  const failed = run.steps.flatMap((s) => s.tasks).filter((t) => t.status !== 'succeeded');
  assert.deepEqual(
    failed.map((t) => [t.name, t.status, t.exitCode]),
    [['bwa_map (sample=B)', 'failed', 1]],
  );
  assert.equal(run.steps.find((s) => s.name === 'bwa_map')!.status, 'failed');
});

test('without the head output: the Snakefile names rules and the .snakemake log names jobs', () => {
  const events = noLogs(fixtureEvents('snakemake-7-ok.strace.jsonl'));
  const dir = runDir(events);
  const snakefileOnly = replay(events, { [`${dir}/Snakefile`]: fixtureText('snakemake-7.Snakefile') });
  const steps = snakefileOnly.tree.runs[0]!.steps.map((s) => `${s.name}:${s.taskCount}`);
  assert.deepEqual(steps, ['bwa_index:1', 'bwa_map:3', 'samtools_sort:3', 'samtools_index:3', 'stats:1']);
  const withLog = replay(events, {
    [`${dir}/Snakefile`]: fixtureText('snakemake-7.Snakefile'),
    [`${dir}/.snakemake/log/2026-11-22T042219.712423.snakemake.log`]: fixtureText('snakemake-7-ok.snakemake.log'),
  });
  assert.deepEqual(outline(withLog.tree), OK_JOBS);
  assert.ok(withLog.wants.some((w) => w.glob && w.path === `${dir}/.snakemake/log/*.snakemake.log`));
});

test('with neither log nor Snakefile, tasks are still there, named after what they run', () => {
  const { tree } = replay(noLogs(fixtureEvents('snakemake-7-ok.strace.jsonl')), null);
  assert.deepEqual(
    tree.runs[0]!.steps.map((s) => `${s.name}:${s.taskCount}`),
    ['bwa index:1', 'bwa mem:3', 'samtools sort:3', 'samtools index:3', 'samtools flagstat:1'],
  );
});

test('Snakemake 9 shapes: `Finished jobid:` lines, run: jobs as `python -m snakemake --target-jobs`', () => {
  const b = new EventBuilder().start(100);
  b.exec(100, ['/usr/bin/python3', '/usr/local/bin/snakemake', '-c', '4', '-s', 'wf/Snakefile'], {
    cwd: '/w',
    exe: '/usr/bin/python3.12',
  });
  b.log(100, 'Assuming unrestricted shared filesystem usage.\nBuilding DAG of jobs...\n');
  b.log(
    100,
    '[Sat Nov 22 10:00:00 2025]\nrule trim:\n    input: raw/s1.fq\n    output: trimmed/s1.fq\n    jobid: 2\n    reason: Missing output files: trimmed/s1.fq\n    wildcards: sample=s1\n    resources: tmpdir=/tmp\n\n',
  );
  b.spawn(101, 100, ['/bin/bash', '-c', 'set -euo pipefail;  cutadapt -q 20 -o trimmed/s1.fq raw/s1.fq'], {
    cwd: '/w',
  });
  b.spawn(102, 101, ['/usr/bin/python3', '/usr/bin/cutadapt', '-q', '20', '-o', 'trimmed/s1.fq', 'raw/s1.fq'], {
    cwd: '/w',
    exe: '/usr/bin/python3.12',
  });
  b.log(
    100,
    '[Sat Nov 22 10:00:00 2025]\nrule report:\n    input: trimmed/s1.fq\n    output: report/s1.html\n    jobid: 1\n    wildcards: sample=s1\n\n',
  );
  b.exit(102).exit(101);
  b.log(100, '[Sat Nov 22 10:00:01 2025]\nFinished jobid: 2 (Rule: trim)\n1 of 3 steps (33%) done\n');
  b.spawn(
    103,
    100,
    [
      '/bin/sh',
      '-c',
      "cd /w && /usr/bin/python3 -m snakemake --snakefile '/w/wf/Snakefile' --target-jobs 'report:sample=s1' --allowed-rules report --cores 4 --mode subprocess",
    ],
    { cwd: '/w' },
  );
  b.spawn(
    104,
    103,
    [
      '/usr/bin/python3',
      '-m',
      'snakemake',
      '--snakefile',
      '/w/wf/Snakefile',
      '--target-jobs',
      'report:sample=s1',
      '--mode',
      'subprocess',
    ],
    { cwd: '/w' },
  );
  b.spawn(105, 104, ['/usr/bin/Rscript', '-e', 'rmarkdown::render("x.Rmd")'], { cwd: '/w' });
  b.exit(105).exit(104).exit(103);
  b.log(100, 'Finished jobid: 1 (Rule: report)\n');
  b.log(
    100,
    'localrule all:\n    input: report/s1.html\n    jobid: 0\n\nFinished jobid: 0 (Rule: all)\n3 of 3 steps (100%) done\n',
  );
  b.exit(100);
  const { tree, wants } = replay(b.events, null);
  assert.equal(tree.runs.length, 1, 'the job subprocess snakemake is not a run of its own');
  assert.equal(tree.runs[0]!.pipeline, 'wf', 'named after the Snakefile folder');
  assert.deepEqual(outline(tree), [
    'trim: trim (sample=s1)=succeeded',
    'report: report (sample=s1)=succeeded',
    'all: all=succeeded',
  ]);
  assert.deepEqual(
    tree.runs[0]!.steps[0]!.tasks[0]!.tools.map((t) => t.name),
    ['cutadapt'],
  );
  assert.ok(wants.some((w) => w.path === '/w/wf/Snakefile'));
});

test('a job announced after its process started is bound when the log arrives (live rename)', () => {
  const b = new EventBuilder().start(100);
  b.exec(100, ['snakemake', '-c1'], { cwd: '/w' });
  b.spawn(101, 100, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools sort -o sorted/a.bam mapped/a.bam'], {
    cwd: '/w',
  });
  const first = replay([...b.events], null);
  assert.deepEqual(outline(first.tree), ['samtools sort: samtools sort=running']);
  b.log(100, 'rule sort:\n    input: mapped/a.bam\n    output: sorted/a.bam\n    jobid: 5\n    wildcards: s=a\n\n');
  b.exit(101).log(100, 'Finished job 5.\n').exit(100);
  const { tree, changes } = replay(b.events, null, 1);
  assert.deepEqual(outline(tree), ['sort: sort (s=a)=succeeded']);
  // The guessed step went away with a delete, the real one came in.
  assert.ok(changes.some((c) => c.entity === 'step' && c.op === 'delete' && c.record.name === 'samtools sort'));
  const taskStates = changes.filter((c) => c.entity === 'task').map((c) => `${c.record.name}:${c.record.status}`);
  assert.deepEqual([...new Set(taskStates)], ['samtools sort:running', 'sort (s=a):running', 'sort (s=a):succeeded']);
});

test('Snakefile templates: shell strings with placeholders, triple quotes and script files', () => {
  const rules = parseSnakefile(fixtureText('snakemake-7.Snakefile'));
  assert.deepEqual(
    rules.map((r) => r.rule),
    ['all', 'bwa_index', 'bwa_map', 'samtools_sort', 'samtools_index', 'stats'],
  );
  assert.ok(
    rules
      .find((r) => r.rule === 'bwa_map')!
      .shell!.test('bwa mem data/ref.fa data/A.fq 2> /dev/null | samtools view -b - > mapped/A.bam'),
  );
  const multi = parseSnakefile(
    'rule a:\n    output: "x"\n    shell:\n        """\n        bwa mem {input} \\\n          > {output}\n        """\nrule b:\n    script: "scripts/plot.py"\n',
  );
  assert.ok(multi[0]!.shell!.test('bwa mem r.fa q.fq \\ > x'));
  assert.equal(multi[1]!.script, 'plot.py');
});

test('recorded Snakemake 9.27 run: localrule blocks, `Finished jobid:`, script: and run: jobs', () => {
  // fixtures/snakemake-9-ok.strace.jsonl: snakemake 9.27.1 (PyPI) under strace -f, the test
  // Snakefile plus a `script:` rule (report) and a `run:` rule (note).
  const { tree } = replay(fixtureEvents('snakemake-9-ok.strace.jsonl'), null);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'snakemake');
  assert.equal(run.status, 'succeeded');
  assert.deepEqual(
    run.steps.map((s) => `${s.name}:${s.tasks.map((t) => t.status).join(',')}`),
    [
      'bwa_index:succeeded',
      'note:succeeded',
      'bwa_map:succeeded,succeeded,succeeded',
      'samtools_sort:succeeded,succeeded,succeeded',
      'samtools_index:succeeded,succeeded,succeeded',
      'stats:succeeded',
      'report:succeeded',
      'all:succeeded',
    ],
  );
  const report = run.steps.find((s) => s.name === 'report')!.tasks[0]!;
  assert.deepEqual(
    report.tools.map((t) => t.name),
    ['report.py'],
  );
  // The `run:` job's own `python -m snakemake` is how it runs, not a tool.
  assert.deepEqual(run.steps.find((s) => s.name === 'note')!.tasks[0]!.tools, []);
});
