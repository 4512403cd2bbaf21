import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultSettings, resolveSettings } from './config.ts';

test('defaults, then the pipeline, then the step win, field by field', () => {
  const config = {
    defaults: { noProgress: { afterNs: 60e9 } },
    pipelines: { rnaseq: { noProgress: { afterNs: 300e9 }, ioWait: { minShare: 0.6 } } },
    steps: { STAR_ALIGN: { noProgress: { enabled: false } } },
  };
  assert.deepEqual(resolveSettings(undefined), defaultSettings);
  assert.equal(resolveSettings(config).noProgress.afterNs, 60e9);
  const star = resolveSettings(config, 'rnaseq', 'STAR_ALIGN');
  assert.equal(star.noProgress.enabled, false);
  assert.equal(star.noProgress.afterNs, 300e9);
  assert.equal(star.ioWait.minShare, 0.6);
  assert.equal(star.ioWait.minNs, defaultSettings.ioWait.minNs);
  assert.equal(resolveSettings(config, 'other', 'STAR_ALIGN').noProgress.afterNs, 60e9);
  assert.equal(defaultSettings.noProgress.afterNs, 120e9, 'defaults are not mutated');
});
