import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

test('a missing input: the insight is on cat, not on the shell that passed exit 1 on', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(200, ['sh', '-c', 'cat /data/missing.fq | gzip > x.gz'])
    .at(0.1)
    .exec(201, ['cat', '/data/missing.fq'], { ppid: 200 })
    .exec(202, ['gzip'], { ppid: 200 })
    .syscallError(201, 'openat', 'ENOENT', { path: '/data/missing.fq' })
    .log(201, 'cat: /data/missing.fq: No such file or directory\n')
    .exit(201, { code: 1 })
    .exit(202, { code: 0 })
    .at(0.2)
    .exit(200, { code: 1 });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1, JSON.stringify(insights, null, 1));
  const i = insights[0]!;
  assert.equal(i.kind, 'nonzero_exit');
  assert.equal(i.pid, 201);
  assert.equal(i.category, 'missing_input');
  assert.deepEqual(i.errorLines, [1]);
  assert.match(i.summary, /cat \(pid 201\) failed with exit 1/);
  assert.ok(i.nextSteps?.[0]?.includes('/data/missing.fq'));
});

test('a pipeline under pipefail: the member that failed first, not the one whose status was passed on', () => {
  // Snakemake's `bwa mem ref missing.fq 2> /dev/null | samtools view -b -`: bwa fails silently
  // on its missing input, then samtools fails on the empty stream, and pipefail passes its 1 on.
  const t = traceBuilder();
  t.at(0)
    .exec(400, [
      '/usr/bin/bash',
      '-c',
      'set -euo pipefail;  bwa mem ref.fa missing.fq 2> /dev/null | samtools view -b -',
    ])
    .at(0.01)
    .exec(401, ['bwa', 'mem', 'ref.fa', 'missing.fq'], { ppid: 400 })
    .syscallError(401, 'openat', 'ENOENT', { path: '/w/missing.fq' })
    // bwa can be gone before bash has forked samtools: the two need not be alive together.
    .exit(401, { code: 1 })
    .at(0.02)
    .exec(402, ['samtools', 'view', '-b', '-'], { ppid: 400 })
    .at(0.03)
    .log(402, '[main_samview] fail to read the header from "-".\n')
    .exit(402, { code: 1 })
    .exit(400, { code: 1 });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1, JSON.stringify(insights, null, 1));
  assert.equal(insights[0]!.pid, 401);
  assert.equal(insights[0]!.category, 'missing_input');
  assert.match(insights[0]!.summary, /missing\.fq/);
});

test('a pipeline member behind a wrapper (`time tool`) and a builtin in a subshell still match', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(600, ['bash', '-c', 'set -o pipefail; echo start | time zcat /w/missing.gz | env LC_ALL=C sort'])
    .fork(601, { ppid: 600 })
    .exit(601, { code: 0 })
    .exec(602, ['zcat', '/w/missing.gz'], { ppid: 600 })
    .syscallError(602, 'openat', 'ENOENT', { path: '/w/missing.gz' })
    .log(602, 'gzip: /w/missing.gz: No such file or directory\n')
    .exit(602, { code: 1 })
    .at(0.01)
    .exec(603, ['sort'], { ppid: 600 })
    .log(603, 'sort: read failed: -: Input/output error\n')
    .exit(603, { code: 2 })
    .exit(600, { code: 2 });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1, JSON.stringify(insights, null, 1));
  assert.equal(insights[0]!.pid, 602);
  assert.equal(insights[0]!.category, 'missing_input');
});

test('sequential commands do not overlap: a handled earlier failure is not the culprit', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(500, ['sh', '-c', 'grep -q x a || true; samtools index b.bam'])
    .at(0.01)
    .exec(501, ['grep', '-q', 'x', 'a'], { ppid: 500 })
    .exit(501, { code: 1 })
    .at(0.02)
    .exec(502, ['samtools', 'index', 'b.bam'], { ppid: 500 })
    .log(502, '[E::hts_open_format] Failed to open file "b.bam" : No such file or directory\n')
    .exit(502, { code: 1 })
    .exit(500, { code: 1 });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1);
  assert.equal(insights[0]!.pid, 502);
});

test('a silent failure explained by the kernel: ENOENT on the input path', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(301, ['./count_reads', 'sample.fq'], { cwd: '/data/run1' })
    .fileOpen(301, '/etc/ld.so.cache')
    .syscallError(301, 'openat', 'ENOENT', { path: '/usr/lib/locale/C.utf8/LC_CTYPE' })
    .syscallError(301, 'openat', 'ENOENT', { path: '/data/run1/sample.fq' })
    .exit(301, { code: 1 });
  const [i] = analyzeTrace(t.events);
  assert.equal(i?.category, 'missing_input');
  assert.match(i!.summary, /openat ENOENT \/data\/run1\/sample\.fq/);
});

test('a failure the parent handled (exit 0) is not reported', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(200, ['sh', '-c', 'grep -q foo x || true'])
    .at(0.1)
    .exec(201, ['grep', '-q', 'foo', 'x'], { ppid: 200 })
    .exit(201, { code: 1 })
    .exit(200, { code: 0 });
  assert.deepEqual(analyzeTrace(t.events), []);
});

test('a command not found: exit 127 from the shell itself', () => {
  const t = traceBuilder();
  t.at(0).exec(200, ['sh', '-c', 'fastqc sample.fq']).log(200, 'sh: 1: fastqc: not found\n').exit(200, { code: 127 });
  const [i] = analyzeTrace(t.events);
  assert.equal(i?.kind, 'nonzero_exit');
  assert.equal(i!.category, 'missing_dependency');
  assert.deepEqual(i!.errorLines, [1]);
});

test('exit 1 with no evidence at all is unknown, and says so', () => {
  const t = traceBuilder();
  t.at(0).exec(200, ['mytool']).exit(200, { code: 1 });
  const [i] = analyzeTrace(t.events);
  assert.equal(i?.category, 'unknown');
  assert.ok(i!.nextSteps!.length > 0);
});
