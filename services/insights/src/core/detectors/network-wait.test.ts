import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

test('a client waiting on a server that never answers: network_wait, not no_progress', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['curl', 'http://127.0.0.1:9999/']);
  t.at(0.5).sample(101, { cpuS: 0.02, netSendBytes: 80, netRecvBytes: 0 });
  for (let s = 1; s <= 20; s++) t.at(s).sample(101, { cpuS: 0.02, netSendBytes: 80, netRecvBytes: 0 });
  const insights = analyzeTrace(t.events, { config: { defaults: { noProgress: { afterNs: 10e9 } } } });
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid]),
    [['network_wait', 101]],
  );
  assert.ok((insights[0]!.evidence.share as number) >= 0.9);
});

test('a download that keeps receiving is not waiting', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['wget', 'https://example.org/ref.fa']);
  for (let s = 1; s <= 30; s++)
    t.at(s).sample(101, { cpuS: 0.02, netSendBytes: 100, netRecvBytes: s * 1e6, writeBytes: s * 1e6 });
  assert.deepEqual(analyzeTrace(t.events), []);
});

test('refused connections are network evidence even before any byte moved', () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['psql', '-h', 'db']).at(0.2).syscallError(101, 'connect', 'ETIMEDOUT', { addr: '10.0.0.5:5432' });
  for (let s = 1; s <= 20; s++) t.at(s).sample(101, { cpuS: 0.01 });
  const [i] = analyzeTrace(t.events, { config: { defaults: { noProgress: { afterNs: 10e9 } } } });
  assert.equal(i?.kind, 'network_wait');
  assert.equal(i!.evidence.peer, '10.0.0.5:5432');
});
