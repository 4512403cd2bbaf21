import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSubtreeFilter } from './filter.ts';
import type { SourceRecord } from './source.ts';

const fork = (pid: number, ppid: number): SourceRecord => ({
  type: 'process.fork',
  ts: 1,
  pid,
  ppid,
  upid: `aaaaaaaa-${pid}-${pid}00`,
});
const exit = (pid: number): SourceRecord => ({
  type: 'process.exit',
  ts: 2,
  pid,
  upid: `aaaaaaaa-${pid}-${pid}00`,
  exitCode: 0,
  signal: null,
  coreDumped: false,
  cpuUserNs: 0,
  cpuSysNs: 0,
  peakRssBytes: 0,
  readBytes: 0,
  writeBytes: 0,
});

test('keeps the root, its descendants and their records, and nothing else', () => {
  const keep = createSubtreeFilter(10);
  assert.equal(keep(fork(10, 1)), true);
  assert.equal(keep(fork(11, 10)), true);
  assert.equal(keep(fork(12, 11)), true);
  assert.equal(keep(fork(20, 1)), false, 'a process outside the subtree');
  assert.equal(keep(fork(21, 20)), false, 'its child');
  assert.equal(keep(exit(11)), true);
  assert.equal(keep(exit(20)), false);
  assert.equal(keep({ type: 'oom.kill', ts: 3, victimPid: 12, constraint: 'memcg' }), true);
  assert.equal(keep({ type: 'oom.kill', ts: 3, victimPid: 20, constraint: 'memcg' }), false);
  const hostInfo = { type: 'host.info', ts: 1, hostname: 'h', bootId: 'b', kernel: 'k', cpus: 1, memoryBytes: 1 };
  assert.equal(keep(hostInfo as SourceRecord), true);
});

test('a reused pid of an exited member is not kept unless its parent is', () => {
  const keep = createSubtreeFilter(10);
  keep(fork(10, 1));
  keep(fork(11, 10));
  keep(exit(11));
  assert.equal(keep({ ...fork(11, 1), upid: 'aaaaaaaa-11-999' } as SourceRecord), false);
});

test('without the root itself: descendants of a pid (the runner excluded)', () => {
  const keep = createSubtreeFilter(10, { includeRoot: false });
  assert.equal(keep(fork(10, 1)), false);
  assert.equal(keep(fork(11, 10)), true);
  assert.equal(keep(fork(12, 11)), true);
});
