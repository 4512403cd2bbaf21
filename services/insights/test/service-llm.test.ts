// The LLM explanation in the service, against a fake OpenAI-compatible server: asked after the
// commit, stored in `explanation` and re-published with model and prompt version; a model
// that does not answer in time never holds the deterministic insight back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InsightMessage, TelemetryEvent } from '@tracer/events';
import { PROMPT_VERSION } from '../src/core/prompt.ts';
import { startFakeLlm } from './fake-llm.ts';
import { eventually, insightRows, insightsEnv, publishEvents, readTopic, runService } from './service-helpers.ts';
import { traceBuilder } from './trace-builder.ts';

function missingBam(pid: number, name: string, tenant: string, host: string): TelemetryEvent[] {
  const t = traceBuilder();
  t.at(0)
    .exec(pid, ['samtools', 'view', '-b', `${name}.bam`])
    .log(pid, `[E::hts_open_format] Failed to open file "${name}.bam" : No such file or directory\n`)
    .at(1)
    .exit(pid, { code: 1 });
  return t.events.map((e) => ({ ...e, tenant, host, agentId: `agent-${name}` }));
}

test('LLM explanations: stored and re-published after the commit; a slow model never holds the insight back', async () => {
  const fake = await startFakeLlm();
  const env = await insightsEnv('llm', {
    llm: {
      baseURL: fake.baseURL,
      model: 'canned-1',
      apiKey: 'k',
      timeoutMs: 1500,
      maxPromptTokens: 4000,
      maxAnswerTokens: 500,
    },
  });
  const service = await runService(env);
  try {
    await publishEvents(env, missingBam(400, 'first', env.tenant, env.host));
    const explained = await eventually('the explanation stored', async () => {
      const [r] = await env.db.pool
        .query<{ explanation: { model: string; promptVersion: string } | null }>(
          'SELECT explanation FROM insights WHERE tenant_id = $1',
          [env.tenant],
        )
        .then((q) => q.rows);
      return r?.explanation ?? undefined;
    });
    assert.equal(explained.model, 'canned-1');
    assert.equal(explained.promptVersion, PROMPT_VERSION);
    const messages = await readTopic(env.bus, env.config.insightsTopic, (m) => m.length >= 2);
    const versions = messages.map((m) => JSON.parse(m.value!.toString()) as InsightMessage);
    assert.equal(versions[0]!.model, undefined, 'the deterministic version goes first');
    assert.equal(versions.at(-1)!.model, 'canned-1');
    assert.deepEqual(versions.at(-1)!.nextSteps, ['ls -l sample1.bam', 'rerun the alignment step']);

    fake.mode = 'slow';
    const asked = fake.requests.length;
    await publishEvents(env, missingBam(401, 'second', env.tenant, env.host));
    const rows = await eventually('the second insight, deterministic', async () => {
      const r = await insightRows(env);
      return r.length === 2 && r;
    });
    assert.ok(rows.every((r) => r.category === 'missing_input'));
    await eventually('the model asked', () => fake.requests.length > asked);
    await service.explanations!.idle();
    const { rows: after } = await env.db.pool.query<{ pid: number; explanation: unknown }>(
      'SELECT pid, explanation FROM insights WHERE tenant_id = $1 ORDER BY pid',
      [env.tenant],
    );
    assert.deepEqual(
      after.map((r) => [r.pid, r.explanation === null]),
      [
        [400, false],
        [401, true],
      ],
    );
  } finally {
    await service.close();
    await env.close();
    fake.close();
  }
});
