import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

test('memory pressure while a task ran: one insight for the episode, on the largest process, resolved when it ends', () => {
  const t = traceBuilder();
  t.hostInfo(4, 16e9).at(0).exec(101, ['STAR', '--genomeLoad']).exec(102, ['fastqc', 'x.fq']);
  for (let s = 1; s <= 30; s++) {
    t.at(s)
      .sample(101, { cpuS: s, rssBytes: 12e9 })
      .sample(102, { cpuS: s, rssBytes: 1e9 })
      .host({ memSome10: s <= 25 ? 35 : 0, avail: 1e9, used: 15e9 });
  }
  const insights = analyzeTrace(t.events);
  const mem = insights.filter((i) => i.kind === 'memory_pressure');
  assert.equal(mem.length, 1);
  assert.equal(mem[0]!.pid, 101);
  assert.equal(mem[0]!.state, 'resolved');
});

test('CPU oversubscription from PSI and load', () => {
  const t = traceBuilder();
  t.hostInfo(2, 8e9).at(0).exec(101, ['bwa', 'mem', '-t', '16']);
  for (let s = 1; s <= 40; s++)
    t.at(s)
      .sample(101, { cpuS: s * 2 })
      .host({ busy: 1, load1: 16, cpuSome10: 80 });
  const [i] = analyzeTrace(t.events).filter((x) => x.kind === 'cpu_oversubscription');
  assert.ok(i);
  assert.equal(i.pid, 101);
  assert.match(i.summary, /load 16\.0 on 2 CPUs/);
});

test('short or mild pressure says nothing', () => {
  const t = traceBuilder();
  t.hostInfo(2, 8e9).at(0).exec(101, ['bwa']);
  for (let s = 1; s <= 40; s++)
    t.at(s)
      .sample(101, { cpuS: s })
      .host({ load1: 2, cpuSome10: s < 5 ? 90 : 5, memSome10: 2 });
  assert.deepEqual(analyzeTrace(t.events), []);
});

test('an idle host: no task, no CPU, for longer than the threshold', () => {
  const t = traceBuilder();
  t.hostInfo(8, 32e9);
  for (let s = 0; s <= 120; s += 10) t.at(s).host({ busy: 0.01 });
  const config = { defaults: { idleHost: { afterNs: 60e9 } } };
  const [i, ...rest] = analyzeTrace(t.events, { config });
  assert.equal(rest.length, 0);
  assert.equal(i?.kind, 'idle_host');
  assert.equal(i!.pid, undefined);
  assert.equal(i!.state, 'open');
});
