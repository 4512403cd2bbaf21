import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Value } from '@sinclair/typebox/value';
import { AttributionChange } from '@tracer/events';
import { newPeakTracker, peakExit, peakSet } from './resources.ts';
import { EventBuilder, MiB, replay } from './test-events.ts';
import { renderTree } from './tree.ts';

/** A snakemake run with one job whose processes are given by `body`. */
function oneTask(body: (b: EventBuilder) => void) {
  const b = new EventBuilder().start(1);
  b.exec(1, ['snakemake', '-c2'], { cwd: '/w' });
  b.spawn(2, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  work'], { cwd: '/w' });
  body(b);
  b.exit(2).exit(1);
  return replay(b.events, null, 1).tree.runs[0]!.steps[0]!.tasks[0]!;
}

test('peak memory is the simultaneous peak, not the sum of per-process peaks', () => {
  // Two 100 MiB processes one after the other: the task never held 200 MiB.
  const sequential = oneTask((b) => {
    b.spawn(3, 2, ['bwa', 'index', 'r']).sample(3, 100).exit(3, 0, { peakMiB: 100, cpuMs: 400 });
    b.spawn(4, 2, ['samtools', 'sort', 'x']).sample(4, 100).exit(4, 0, { peakMiB: 100, cpuMs: 600 });
  });
  assert.equal(sequential.resources.peakRssBytes, 100 * MiB);
  assert.equal(sequential.resources.cpuNs, 1e9);
  // The same two at the same time: 200 MiB together.
  const concurrent = oneTask((b) => {
    b.spawn(3, 2, ['bwa', 'mem', 'r', 'q']).spawn(4, 2, ['samtools', 'view', '-b', '-']);
    b.sample(3, 100).sample(4, 100).sample(3, 60);
    b.exit(3, 0, { peakMiB: 100 }).exit(4, 0, { peakMiB: 100 });
  });
  assert.equal(concurrent.resources.peakRssBytes, 200 * MiB);
  assert.equal(concurrent.resources.maxProcessPeakRssBytes, 100 * MiB);
  assert.equal(concurrent.resources.processCount, 3);
});

test('a short process never sampled counts at its kernel peak on top of what runs beside it', () => {
  const t = oneTask((b) => {
    b.spawn(3, 2, ['bwa', 'mem', 'r', 'q']).sample(3, 300);
    b.spawn(4, 2, ['samtools', 'index', 'x']).exit(4, 0, { peakMiB: 50 });
    b.exit(3, 0, { peakMiB: 300 });
  });
  assert.equal(t.resources.peakRssBytes, 350 * MiB);
});

test('the peak is never below the largest single process high-water mark', () => {
  // Sampled at 10 MiB, but the kernel saw it reach 900 MiB between samples.
  const t = oneTask((b) => {
    b.spawn(3, 2, ['STAR', '--runMode', 'genomeGenerate']).sample(3, 10).exit(3, 0, { peakMiB: 900 });
  });
  assert.equal(t.resources.peakRssBytes, 900 * MiB);
});

test('PeakTracker: contributions replace, exits remove', () => {
  const p = newPeakTracker();
  peakSet(p, 'a', 10);
  peakSet(p, 'b', 5);
  peakSet(p, 'a', 2);
  assert.equal(p.peak, 15);
  peakExit(p, 'a', 12, true);
  peakSet(p, 'c', 4);
  assert.equal(p.peak, 15);
  peakSet(p, 'c', 20);
  assert.equal(p.peak, 25);
});

test('live status: running first, then the exit decides; every change validates against tasks.v1', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['snakemake', '-c2'], { cwd: '/w' });
  b.spawn(2, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  bwa mem r q > o.sam'], { cwd: '/w' });
  b.spawn(3, 2, ['bwa', 'mem', 'r', 'q']).sample(3, 20, 100);
  b.exit(3, 0, { cpuMs: 250, peakMiB: 25, readBytes: 1000, writeBytes: 2000 }).exit(2).exit(1);
  const { changes } = replay(b.events, null, 1);
  for (const c of changes)
    assert.ok(Value.Check(AttributionChange, c), JSON.stringify([...Value.Errors(AttributionChange, c)][0]));
  const task = changes.filter((c) => c.entity === 'task').map((c) => c.record.status);
  assert.equal(task[0], 'running');
  assert.equal(task.at(-1), 'succeeded');
  const run = changes.filter((c) => c.entity === 'run').map((c) => c.record.status);
  assert.deepEqual([run[0], run.at(-1)], ['running', 'succeeded']);
  const last = changes.filter((c) => c.entity === 'tool').at(-1)!;
  assert.equal(last.entity === 'tool' && last.record.resources.readBytes, 1000);
});

test('an OOM-killed tool makes its task killed even though the shell exited 137', () => {
  const t = oneTask((b) => {
    b.spawn(3, 2, ['bwa', 'mem', 'r', 'q']).sample(3, 500).oom(3).exit(3, 0, { signal: 9, peakMiB: 510 });
  });
  assert.equal(t.status, 'killed');
  assert.equal(t.oomKilled, true);
  assert.equal(t.tools[0]!.status, 'killed');
});

test('a writer stopped by SIGPIPE when its reader had enough is no kill; 141 under pipefail is a failure', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['snakemake', '-c2'], { cwd: '/w' });
  b.spawn(2, 1, ['/usr/bin/bash', '-c', 'zcat r.fq.gz | head -n 4000 > sample.fq'], { cwd: '/w' });
  b.spawn(3, 2, ['zcat', 'r.fq.gz']).spawn(4, 2, ['head', '-n', '4000']);
  b.exit(4, 0).exit(3, 0, { signal: 13 }).exit(2, 0);
  b.spawn(5, 1, ['/usr/bin/bash', '-c', 'set -o pipefail; zcat s.fq.gz | head -n 1'], { cwd: '/w' });
  b.spawn(6, 5, ['zcat', 's.fq.gz']).spawn(7, 5, ['head', '-n', '1']);
  b.exit(7, 0).exit(6, 0, { signal: 13 }).exit(5, 141).exit(1, 1);
  const { tree } = replay(b.events, null);
  const tasks = tree.runs[0]!.steps.flatMap((s) => s.tasks);
  assert.deepEqual(
    tasks.map((t) => [t.status, t.exitCode, t.tools.map((x) => [x.name, x.status, x.signal])]),
    [
      ['succeeded', 0, [['gzip', 'succeeded', 13]]],
      ['failed', 141, [['gzip', 'succeeded', 13]]],
    ],
  );
  assert.match(renderTree(tree), /gzip \(pid 3\) · stopped by SIGPIPE \(its reader closed the pipe\)/);
});

test('a shell reporting 128+N for a child killed by signal N: killed; other non-zero: failed', () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['snakemake', '-c2'], { cwd: '/w' });
  b.spawn(2, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools sort x'], { cwd: '/w' });
  b.spawn(3, 2, ['samtools', 'sort', 'x']).exit(3, 0, { signal: 15 }).exit(2, 143);
  b.spawn(4, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools index y'], { cwd: '/w' });
  b.spawn(5, 4, ['samtools', 'index', 'y']).exit(5, 1).exit(4, 1).exit(1, 1);
  const tasks = replay(b.events, null).tree.runs[0]!.steps.flatMap((s) => s.tasks);
  assert.deepEqual(
    tasks.map((t) => [t.name, t.status, t.exitCode]),
    [
      ['samtools sort', 'killed', 143],
      ['samtools index', 'failed', 1],
    ],
  );
});

test('one tool execution across processes of the same tool (gatk launcher -> java)', () => {
  const t = oneTask((b) => {
    b.spawn(3, 2, ['/usr/bin/python3', '/opt/gatk/gatk', 'HaplotypeCaller', '-R', 'r'], { exe: '/usr/bin/python3.11' });
    b.spawn(4, 3, ['java', '-Xmx4g', '-jar', '/opt/gatk/gatk-package-4.5.0.0-local.jar', 'HaplotypeCaller', '-R', 'r']);
    b.exit(4).exit(3);
  });
  assert.deepEqual(
    t.tools.map((x) => [x.name, x.pids]),
    [['gatk HaplotypeCaller', [3, 4]]],
  );
});

test("an exec'd child's kernel peak that is only its parent's image is not taken for its own", () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['snakemake', '-c2'], { cwd: '/w' }).sample(1, 75);
  // bash exec's samtools (one command): ru_maxrss counts the 75 MiB Python image it replaced.
  b.spawn(2, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools index x.bam'], { cwd: '/w' });
  b.exec(2, ['samtools', 'index', 'x.bam'], { cwd: '/w', ppid: 1 }).sample(2, 12).exit(2, 0, { peakMiB: 75 });
  // A child that really grew past its parent keeps its kernel peak.
  b.spawn(3, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  STAR --runMode alignReads'], { cwd: '/w' });
  b.exec(3, ['STAR', '--runMode', 'alignReads'], { cwd: '/w', ppid: 1 }).exit(3, 0, { peakMiB: 900 });
  b.exit(1);
  const tasks = replay(b.events, null).tree.runs[0]!.steps.flatMap((s) => s.tasks);
  assert.equal(tasks[0]!.resources.peakRssBytes, 12 * MiB);
  assert.equal(tasks[0]!.resources.peakRssUnknownProcessCount, 1);
  assert.equal(tasks[1]!.resources.peakRssBytes, 900 * MiB);
});

test("with the exec'd image's own kernel peak (eBPF), that is the process's peak, known even unsampled", () => {
  const b = new EventBuilder().start(1);
  b.exec(1, ['snakemake', '-c2'], { cwd: '/w' }).sample(1, 75);
  b.spawn(2, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  samtools sort -o y.bam x.bam'], { cwd: '/w' });
  b.exec(2, ['samtools', 'sort', '-o', 'y.bam', 'x.bam'], { cwd: '/w', ppid: 1 });
  b.exit(2, 0, { peakMiB: 76, execPeakMiB: 4.5 });
  b.spawn(3, 1, ['/usr/bin/bash', '-c', 'set -euo pipefail;  STAR --runMode alignReads'], { cwd: '/w' });
  b.exec(3, ['STAR', '--runMode', 'alignReads'], { cwd: '/w', ppid: 1 }).sample(3, 700);
  b.exit(3, 0, { peakMiB: 900, execPeakMiB: 880 });
  b.exit(1);
  const tasks = replay(b.events, null).tree.runs[0]!.steps.flatMap((s) => s.tasks);
  assert.equal(tasks[0]!.resources.peakRssBytes, 4.5 * MiB);
  assert.equal(tasks[0]!.resources.peakRssUnknownProcessCount ?? 0, 0, 'no peak is unknown');
  assert.equal(tasks[1]!.resources.peakRssBytes, 880 * MiB);
});
