// The LLM adapter against our own tiny OpenAI-compatible server on 127.0.0.1 that answers
// canned JSON: structured output parsed, cache hit on the same evidence, and every failure
// (timeout, HTTP error, malformed answer) falling back to the deterministic answer.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import { analyzeTraceState, explainInsight } from '../core/analyze-trace.ts';
import { PROMPT_VERSION } from '../core/prompt.ts';
import { createLlmExplainer, type LlmConfig, llmConfigFromEnv } from './llm.ts';

type Mode = 'ok' | 'slow' | 'http500' | 'garbage';
const requests: Array<Record<string, unknown>> = [];
let mode: Mode = 'ok';

function answerFor(body: Record<string, unknown>) {
  const user = (body.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user')!.content;
  const packet = JSON.parse(user).evidence;
  const l = packet.errorLines[0];
  return {
    criticalIssue: 'samtools could not open its input BAM.',
    category: 'missing_input',
    confidence: 0.9,
    rootCauses: [
      {
        cause: 'sample1.bam does not exist in the work directory',
        likelihood: 0.9,
        evidence: [`stderr line ${l.line}`],
      },
    ],
    nextSteps: ['ls -l sample1.bam', 'rerun the alignment step'],
    errorEntries: [{ pid: l.pid, stream: l.stream, line: l.line, text: l.text }],
  };
}

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  let raw = '';
  req.on('data', (d) => (raw += d));
  req.on('end', () => {
    const body = JSON.parse(raw) as Record<string, unknown>;
    requests.push({ url: req.url, auth: req.headers.authorization, ...body });
    const reply = (content: string) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 0,
          model: 'canned-1',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content } }],
        }),
      );
    };
    if (mode === 'http500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"boom"}}');
    } else if (mode === 'slow') setTimeout(() => !res.writableEnded && reply(JSON.stringify(answerFor(body))), 3000);
    else if (mode === 'garbage') reply('I think it is a missing file.');
    else reply(JSON.stringify(answerFor(body)));
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
after(() => {
  server.closeAllConnections();
  server.close();
});

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
  mode = 'ok';
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
  mode = 'ok';
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
    mode = m;
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
