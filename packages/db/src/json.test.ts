import assert from 'node:assert/strict';
import { test } from 'node:test';
import { postgresJson } from './json.ts';

test('NUL and lone surrogates become U+FFFD; a literal backslash-u0000 and real pairs stay', () => {
  assert.equal(JSON.parse(postgresJson({ t: 'a\u0000b' })).t, 'a\ufffdb');
  assert.equal(JSON.parse(postgresJson({ t: 'x\ud800y' })).t, 'x\ufffdy');
  assert.equal(JSON.parse(postgresJson({ t: 'C:\\u0000' })).t, 'C:\\u0000');
  assert.equal(JSON.parse(postgresJson({ t: '😀' })).t, '😀');
  assert.equal(postgresJson([1, 'plain']), '[1,"plain"]');
});
