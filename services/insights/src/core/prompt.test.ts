import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import { analyzeTraceState, explainInsight } from './analyze-trace.ts';
import { acceptAnswer, boundPacket, buildPrompt, estimateTokens, redactText } from './prompt.ts';

test('redaction removes keys, tokens, passwords, URL credentials and e-mails', () => {
  const s = redactText(
    'aws AKIAIOSFODNN7EXAMPLE pw password=hunter2 url https://bob:s3cret@host/x mail a.b@example.org Bearer abcdefghijklmnop123',
  );
  for (const secret of ['AKIAIOSFODNN7EXAMPLE', 'hunter2', 's3cret', 'a.b@example.org', 'abcdefghijklmnop123'])
    assert.ok(!s.includes(secret), s);
});

function failedTrace(lines: number) {
  const t = traceBuilder();
  t.at(0).exec(101, ['bwa', 'mem', 'ref.fa', 'r.fq']);
  for (let i = 0; i < lines; i++)
    t.log(
      101,
      `[E::bwa_thing] error ${String.fromCharCode(65 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))} with a long explanation ${'x'.repeat(300)}\n`,
    );
  t.log(101, 'token=ghp_abcdefghijklmnopqrstuvwxyz0123\n').at(1).exit(101, { code: 1 });
  const { state, insights } = analyzeTraceState(t.events);
  return explainInsight(state, insights[0]!)!;
}

test('the prompt holds only the packet, redacted, within the token budget', () => {
  const { packet, rootCause } = failedTrace(30);
  const p = buildPrompt(packet, rootCause, 2000);
  assert.ok(estimateTokens(p.system) + estimateTokens(p.user) <= 2000, String(estimateTokens(p.user)));
  assert.ok(!p.user.includes('ghp_abcdefghijklmnopqrstuvwxyz0123'));
  assert.ok(p.packet.errorLines.length >= 5);
  assert.ok(estimateTokens(JSON.stringify(boundPacket(packet, 100000))) > estimateTokens(JSON.stringify(p.packet)));
});

test('an answer is checked: invented error lines dropped, unknown category falls back', () => {
  const { packet, rootCause } = failedTrace(2);
  const line = packet.errorLines[0]!;
  const rc = acceptAnswer(
    {
      criticalIssue: 'bwa failed',
      category: 'not-a-category',
      confidence: 0.7,
      rootCauses: [{ cause: 'x', likelihood: 0.7, evidence: ['line 1'] }],
      nextSteps: ['do y'],
      errorEntries: [
        { pid: line.pid, stream: line.stream, line: line.line, text: 'paraphrased' },
        { pid: 101, stream: 'stderr', line: 999, text: 'invented' },
      ],
    },
    packet,
    rootCause,
    'm1',
  );
  assert.equal(rc.category, rootCause.category);
  assert.deepEqual(
    rc.errorEntries.map((e) => e.line),
    [line.line],
  );
  assert.equal(rc.errorEntries[0]!.text, line.text);
  assert.equal(rc.source, 'llm');
  assert.throws(() => acceptAnswer({ nope: 1 }, packet, rootCause, 'm1'));
});
