import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashSecret, isScope, keyFromHeaders, newApiKey, parseApiKey, secretMatches } from './api-key.ts';

test('a new key parses back to its id and secret, and only its secret matches the stored hash', () => {
  const { id, secret, key } = newApiKey();
  assert.match(key, /^trk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);
  assert.deepEqual(parseApiKey(key), { id, secret });
  assert.equal(secretMatches(secret, hashSecret(secret)), true);
  assert.equal(secretMatches(`${secret.slice(0, -1)}x`, hashSecret(secret)), false);
  assert.equal(secretMatches(secret, Buffer.alloc(3)), false);
});

test('malformed keys are refused before any lookup', () => {
  for (const bad of [
    '',
    'trk_',
    'trk_ABCDEFGHIJKL_xxx',
    `sk_abcdefghijkl_${'a'.repeat(43)}`,
    `trk_abcdefghijkl_${'a'.repeat(42)}`,
  ]) {
    assert.equal(parseApiKey(bad), undefined, bad);
  }
});

test('keys come from Authorization: Bearer or X-Tracer-Key', () => {
  assert.equal(keyFromHeaders({ authorization: 'Bearer trk_x' }), 'trk_x');
  assert.equal(keyFromHeaders({ authorization: 'bearer  trk_x ' }), 'trk_x');
  assert.equal(keyFromHeaders({ authorization: 'Basic abc' }), undefined);
  assert.equal(keyFromHeaders({ 'x-tracer-key': 'trk_y' }), 'trk_y');
  assert.equal(keyFromHeaders({}), undefined);
  assert.equal(isScope('ingest'), true);
  assert.equal(isScope('root'), false);
});
