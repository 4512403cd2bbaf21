import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allowlistEnv } from './env-allowlist.ts';

test('keeps allowlisted names only, from a record or raw NAME=value entries', () => {
  assert.deepEqual(allowlistEnv({ AWS_BATCH_JOB_ID: 'job-1', AWS_SECRET_ACCESS_KEY: 'x', HOME: '/root' }), {
    AWS_BATCH_JOB_ID: 'job-1',
  });
  assert.deepEqual(allowlistEnv(['PATH=/bin', 'NXF_TASK_WORKDIR=/w/ab/12', 'SLURM_JOB_ID=7', 'BROKEN']), {
    NXF_TASK_WORKDIR: '/w/ab/12',
    SLURM_JOB_ID: '7',
  });
  assert.equal(allowlistEnv({ TOKEN: 'x' }), undefined);
});

test('redacts secrets that land in an allowlisted value', () => {
  assert.deepEqual(allowlistEnv({ TRACER_RUN: 'https://u:pw@host/x' }), {
    TRACER_RUN: 'https://u:[REDACTED:url-password]@host/x',
  });
});
