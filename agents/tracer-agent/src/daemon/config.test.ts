import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { AgentConfigError, loadAgentConfig, redactedConfig } from './config.ts';

const dir = mkdtempSync(join(tmpdir(), 'tracer-agent-config-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const KEY = `trk_abcdefghijkl_${'A'.repeat(43)}`;

test('defaults, then file, then environment, then flags', () => {
  const file = join(dir, 'agent.json');
  writeFileSync(file, JSON.stringify({ tenant: 'from-file', spoolMaxBytes: 2_000_000, host: 'file-host' }));
  const config = loadAgentConfig({
    file,
    env: { TRACER_AGENT_TENANT: 'from-env', TRACER_DATA_DIR: '/var/lib/tracer' },
    flags: { tenant: 'from-flag' },
  });
  assert.equal(config.tenant, 'from-flag');
  assert.equal(config.host, 'file-host');
  assert.equal(config.spoolMaxBytes, 2_000_000);
  assert.equal(config.sink, 'kafka');
  assert.equal(config.spoolDir, '/var/lib/tracer/agent');
  assert.deepEqual(config.kafkaBrokers, ['127.0.0.1:19092']);
});

test('a gateway URL picks the gateway sink; the key may come from a file and never shows in print', () => {
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, `${KEY}\n`);
  const config = loadAgentConfig({ env: {}, flags: { gatewayUrl: 'https://ingest.example.com', apiKeyFile: keyFile } });
  assert.equal(config.sink, 'gateway');
  assert.equal(config.apiKey, KEY);
  assert.doesNotMatch(JSON.stringify(redactedConfig(config)), /AAAAAAAAAA/);
});

test('every bad setting is named with where it came from', () => {
  const file = join(dir, 'bad.json');
  writeFileSync(file, JSON.stringify({ spoolMaxBytes: 'lots', colour: 'blue' }));
  assert.throws(
    () =>
      loadAgentConfig({
        file,
        env: { TRACER_AGENT_SAMPLE_INTERVAL_MS: '-5' },
        flags: { sink: 'gateway', gatewayUrl: 'ftp://x', tenant: 'no spaces' },
        flagNames: { gatewayUrl: '--gateway' },
      }),
    (err: Error) => {
      assert.ok(err instanceof AgentConfigError);
      for (const part of [
        /colour \(.*bad\.json\): unknown setting/,
        /spoolMaxBytes \(.*bad\.json\): expected an integer/,
        /sampleIntervalMs \(TRACER_AGENT_SAMPLE_INTERVAL_MS\)/,
        /gatewayUrl \(--gateway\): expected an http\(s\) URL/,
        /tenant \(--tenant\)/,
        /apiKey .*needs an API key/,
      ]) {
        assert.match(err.message, part);
      }
      return true;
    },
  );
  assert.throws(() => loadAgentConfig({ file: join(dir, 'missing.json'), env: {} }), /does not exist/);
});
