import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignColumns, formatBytes, formatDuration, signalName, signalNumber } from './units.ts';

test('human sizes and durations', () => {
  assert.deepEqual([0, 512, 1536, 10 * 1024 ** 2, 1.2 * 1024 ** 3, 300 * 1024 ** 4].map(formatBytes), [
    '0 B',
    '512 B',
    '1.50 KiB',
    '10.0 MiB',
    '1.20 GiB',
    '300 TiB',
  ]);
  assert.deepEqual([0, 850e3, 12e6, 1.234e9, 42.1e9, 123e9, 3720e9, 2 * 86400e9 + 3 * 3600e9].map(formatDuration), [
    '0',
    '850us',
    '12ms',
    '1.23s',
    '42.1s',
    '2m03s',
    '1h02m',
    '2d03h',
  ]);
  assert.equal(formatDuration(-1), '-');
});

test('signal names both ways', () => {
  assert.equal(signalName(9), 'SIGKILL');
  assert.equal(signalName(35), 'SIGRTMIN+1');
  assert.equal(signalNumber('SIGTERM'), 15);
});

test('aligns columns, right-aligned where asked', () => {
  assert.deepEqual(
    alignColumns(
      [
        ['a', '1', 'x'],
        ['bbb', '100', 'yy'],
      ],
      new Set([1]),
    ),
    ['a      1  x', 'bbb  100  yy'],
  );
});
