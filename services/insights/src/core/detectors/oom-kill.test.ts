import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';
import { createInsightsState, stepInsights } from '../engine.ts';

const MiB = 1024 ** 2;

function oomTrace() {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['sh', '-c', 'bwa mem ref.fa r.fq'])
    .at(0.1)
    .exec(101, ['bwa', 'mem', 'ref.fa', 'r.fq'], { ppid: 100 })
    .at(1)
    .sample(101, { cpuS: 0.9, rssBytes: 200 * MiB })
    .at(2)
    .sample(101, { cpuS: 1.9, rssBytes: 250 * MiB })
    .at(2.5)
    .oom(101, { limit: 256 * MiB, usage: 256 * MiB, rss: 254 * MiB })
    .exit(101, { signal: 9, peakRssBytes: 250 * MiB })
    .at(2.6)
    .log(100, 'sh: line 1:   101 Killed                  bwa mem ref.fa r.fq\n')
    .exit(100, { code: 137 });
  return t;
}

test('an OOM kill names the exact victim, its limit and the peak before the kill; the shell passing 137 on adds no second insight', () => {
  const insights = analyzeTrace(oomTrace().events);
  assert.equal(insights.length, 1, JSON.stringify(insights, null, 1));
  const i = insights[0]!;
  assert.equal(i.kind, 'oom_kill');
  assert.equal(i.pid, 101);
  assert.equal(i.tool, 'bwa mem');
  assert.equal(i.category, 'oom');
  assert.equal(i.evidence.memoryLimitBytes, 256 * MiB);
  assert.equal(i.evidence.peakRssBytes, 254 * MiB);
  assert.match(i.summary, /OOM killer.*limit 256 MiB.*peak RSS before the kill 254 MiB/);
});

test('the OOM insight opens when the kernel record arrives and keeps its id when the exit follows', () => {
  const t = oomTrace();
  const state = createInsightsState();
  const cut = t.events.findIndex((e) => e.type === 'oom.kill') + 1;
  const first = stepInsights(state, t.events.slice(0, cut), t.events[cut - 1]!.ts);
  assert.equal(first.insights.length, 1);
  assert.equal(first.insights[0]!.kind, 'oom_kill');
  const second = stepInsights(state, t.events.slice(cut), t.now);
  assert.ok(second.insights.every((i) => i.id === first.insights[0]!.id));
  assert.equal(state.insights.size, 1);
  assert.equal(second.insights[0]?.evidence.exitCode ?? 0, 0);
  assert.equal(second.insights[0]?.evidence.signal, 9);
});

test('SIGKILL without an OOM record is a signal insight that says so', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['sh', '-c', 'bwa mem ref.fa r.fq'])
    .at(0.1)
    .exec(101, ['bwa', 'mem', 'ref.fa', 'r.fq'], { ppid: 100 })
    .at(1)
    .sample(101, { cpuS: 0.9, rssBytes: 200 * MiB })
    .at(2)
    .exit(101, { signal: 9, peakRssBytes: 210 * MiB })
    .exit(100, { code: 137 });
  const [i, ...rest] = analyzeTrace(t.events);
  assert.equal(rest.length, 0);
  assert.equal(i!.kind, 'signal');
  assert.equal(i!.pid, 101);
  assert.match(i!.summary, /SIGKILL \(exit 137\) but the kernel recorded no OOM kill/);
  assert.notEqual(i!.category, 'oom');
});

test('disabled per step: no insight', () => {
  const insights = analyzeTrace(oomTrace().events, {
    config: { steps: { 'bwa mem': { oomKill: { enabled: false } } } },
  });
  assert.ok(insights.every((i) => i.kind !== 'oom_kill'));
});

test('an OOM victim reaped before /proc sampling read its status is still the one insight', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['sh', '-c', 'tail /dev/zero'])
    .at(0.1)
    .exec(101, ['tail', '/dev/zero'], { ppid: 100 })
    .at(1)
    .oom(101, { limit: 64 * MiB, usage: 64 * MiB })
    .exit(101, { unknown: true })
    .exit(100, { code: 137 });
  const insights = analyzeTrace(t.events);
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid]),
    [['oom_kill', 101]],
  );
});
