// The LLM adapter against our own tiny OpenAI-compatible server (test/fake-llm.ts):
// structured output parsed, cache hit on the same evidence, and every failure (timeout,
// HTTP error, malformed answer) falling back to the deterministic answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startFakeLlm } from '../../test/fake-llm.ts';
import { traceBuilder } from '../../test/trace-builder.ts';
import { analyzeTraceState, explainInsight } from '../core/analyze-trace.ts';
import { PROMPT_VERSION } from '../core/prompt.ts';
import { createLlmExplainer, type LlmConfig, llmConfigFromEnv } from './llm.ts';

const fake = await startFakeLlm();
const { baseURL, requests } = fake;
after(() => fake.close());

function config(extra: Partial<LlmConfig> = {}): LlmConfig {
  return {
    baseURL,
    model: 'canned-1',
    apiKey: 'test-key',
    timeoutMs: 1000,
    maxPromptTokens: 4000,
    maxAnswerTokens: 500,
    ...extra,
  };
}

function evidence(variant: string) {
  const t = traceBuilder();
  t.at(0)
    .exec(101, ['samtools', 'view', '-b', `${variant}.bam`])
    .log(
      101,
      `[E::hts_open_format] Failed to open file "${variant}.bam" : No such file or directory\nsecret AKIAIOSFODNN7EXAMPLE\n`,
    )
    .at(1)
    .exit(101, { code: 1 });
  const { state, insights } = analyzeTraceState(t.events);
  return explainInsight(state, insights[0]!)!;
}

test('config from the environment; no base URL means no LLM', () => {
  assert.equal(llmConfigFromEnv({}), undefined);
  const c = llmConfigFromEnv({ TRACER_LLM_BASE_URL: baseURL, TRACER_LLM_MODEL: 'm', TRACER_LLM_API_KEY: 'k' })!;
  assert.equal(c.model, 'm');
  assert.throws(
    () => llmConfigFromEnv({ TRACER_LLM_BASE_URL: baseURL, TRACER_LLM_MODEL: 'm', TRACER_LLM_TIMEOUT_MS: 'soon' }),
    /TRACER_LLM_TIMEOUT_MS/,
  );
});

test('structured answer parsed, with model and prompt version; the prompt is the redacted packet and asks for the JSON schema', async () => {
  fake.mode = 'ok';
  requests.length = 0;
  const { packet, rootCause } = evidence('a');
  const llm = createLlmExplainer(config());
  const r = await llm.explain(packet, rootCause);
  assert.equal(r.via, 'llm');
  assert.equal(r.rootCause.source, 'llm');
  assert.equal(r.rootCause.model, 'canned-1');
  assert.equal(r.rootCause.promptVersion, PROMPT_VERSION);
  assert.equal(r.rootCause.category, 'missing_input');
  assert.equal(r.rootCause.criticalIssue, 'samtools could not open its input BAM.');
  assert.deepEqual(
    r.rootCause.errorEntries.map((e) => e.line),
    [1],
  );
  const req = requests[0]!;
  assert.equal(req.url, '/v1/chat/completions');
  assert.equal(req.auth, 'Bearer test-key');
  assert.equal((req.response_format as { type: string }).type, 'json_schema');
  assert.ok(!JSON.stringify(req.messages).includes('AKIAIOSFODNN7EXAMPLE'));
});

test('the same evidence is answered from the cache (memory, and a directory across instances)', async () => {
  fake.mode = 'ok';
  requests.length = 0;
  const dir = mkdtempSync(join(tmpdir(), 'tracer-llm-cache-'));
  try {
    const { packet, rootCause } = evidence('b');
    const one = createLlmExplainer(config({ cacheDir: dir }));
    assert.equal((await one.explain(packet, rootCause)).via, 'llm');
    assert.equal((await one.explain(packet, rootCause)).via, 'cache');
    const two = createLlmExplainer(config({ cacheDir: dir }));
    const again = await two.explain(evidence('b').packet, evidence('b').rootCause);
    assert.equal(again.via, 'cache');
    assert.equal(again.rootCause.model, 'canned-1');
    assert.equal(requests.length, 1);
    assert.equal((await one.explain(evidence('c').packet, evidence('c').rootCause)).via, 'llm');
    assert.equal(requests.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [m, why] of [
  ['slow', /timed out|timeout|abort/i],
  ['http500', /500|boom/],
  ['garbage', /JSON|Unexpected token/i],
] as const) {
  test(`${m}: falls back to the deterministic answer`, async () => {
    fake.mode = m;
    const { packet, rootCause } = evidence(`f-${m}`);
    const llm = createLlmExplainer(config({ timeoutMs: 500 }));
    const started = Date.now();
    const r = await llm.explain(packet, rootCause);
    assert.equal(r.via, 'fallback');
    assert.match(r.error ?? '', why);
    assert.deepEqual(r.rootCause, rootCause);
    assert.ok(Date.now() - started < 2500);
    assert.equal(llm.stats().fallbacks, 1);
  });
}
