import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DEFAULT_INSIGHTS_PORT, loadServiceConfig } from './config.ts';

test('defaults point at the local stack; topics are the shared ones', () => {
  const c = loadServiceConfig({});
  assert.equal(c.port, DEFAULT_INSIGHTS_PORT);
  assert.equal(c.telemetryTopic, 'telemetry.normalized.v1');
  assert.equal(c.tasksTopic, 'tasks.v1');
  assert.equal(c.insightsTopic, 'insights.v1');
  assert.equal(c.llm, undefined);
  assert.equal(c.databaseRole, 'tracer_app');
});

test('every bad variable is named in one error', () => {
  const err = (() => {
    try {
      loadServiceConfig({
        TRACER_KAFKA_BROKERS: 'kafka',
        TRACER_DATABASE_URL: 'mysql://x',
        TRACER_INSIGHTS_PORT: 'eighty',
        TRACER_INSIGHTS_TICK_MS: '5',
        TRACER_INSIGHTS_DETECTORS_FILE: '/no/such/file.json',
        TRACER_LLM_BASE_URL: 'http://127.0.0.1:1/v1',
        TRACER_LLM_MODEL: 'm',
        TRACER_LLM_TIMEOUT_MS: 'soon',
      });
    } catch (e) {
      return e as Error;
    }
    return undefined;
  })();
  assert.ok(err instanceof ConfigError);
  for (const key of [
    'TRACER_KAFKA_BROKERS',
    'TRACER_DATABASE_URL',
    'TRACER_INSIGHTS_PORT',
    'TRACER_INSIGHTS_TICK_MS',
    'TRACER_INSIGHTS_DETECTORS_FILE',
    'TRACER_LLM_TIMEOUT_MS',
  ])
    assert.match(err.message, new RegExp(key));
});

test('LLM config through llmConfigFromEnv', () => {
  const c = loadServiceConfig({ TRACER_LLM_BASE_URL: 'http://127.0.0.1:1/v1', TRACER_LLM_MODEL: 'm' });
  assert.equal(c.llm?.model, 'm');
});
