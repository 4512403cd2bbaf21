// The sink's text encodings, with no database: COPY timestamps and array literals.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arrayOf, timestampText } from './postgres-sink.ts';

test('timestamps are exact to the microsecond, zero-padded, UTC', () => {
  assert.equal(timestampText(1_795_333_218_000_001), '2026-11-22T07:40:18.000001Z');
  assert.equal(timestampText(1_795_333_218_123_456), '2026-11-22T07:40:18.123456Z');
  assert.equal(timestampText(0), '1970-01-01T00:00:00.000000Z');
});

test('an instant no date can hold becomes text PostgreSQL refuses, not an exception', () => {
  assert.equal(timestampText(1e30), 'invalid timestamp 1e+30');
  assert.match(timestampText(Number.POSITIVE_INFINITY), /^invalid timestamp/);
});

test('array literals: numbers bare, NULLs, strings quoted and escaped, arrays and objects as quoted text', () => {
  const rows = [
    { n: 1, s: 'a"b\\c', b: true, a: ['x', 'y"z'], o: { k: 'v' } },
    { n: null, s: 'NUL\u0000', b: false, a: null, o: null },
  ];
  assert.equal(arrayOf(rows, 'n'), '{1,NULL}');
  assert.equal(arrayOf(rows, 's'), '{"a\\"b\\\\c","NUL\uFFFD"}');
  assert.equal(arrayOf(rows, 'b'), '{t,f}');
  assert.equal(arrayOf(rows, 'a'), '{"{\\"x\\",\\"y\\\\\\"z\\"}",NULL}');
  assert.equal(arrayOf(rows, 'o'), '{"{\\"k\\":\\"v\\"}",NULL}');
});
