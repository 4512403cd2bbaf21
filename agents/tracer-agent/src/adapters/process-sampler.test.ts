import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bootIdPrefix, makeUpid, NS_PER_TICK } from '../core/upid.ts';
import { sampleProcesses } from './process-sampler.ts';
import { readBootId, readStat } from './procfs.ts';

const self = () => {
  const stat = readStat(process.pid)!;
  return makeUpid(bootIdPrefix(readBootId()), process.pid, stat.startTicks * NS_PER_TICK + 123);
};

test('samples a live process from /proc and merges the counters the source has', () => {
  const [s, ...rest] = sampleProcesses([[process.pid, self()]], {
    counters: () => ({ ioWaitNs: 5, netSendBytes: 6, netRecvBytes: 7 }),
  });
  assert.equal(rest.length, 0);
  assert.equal(s?.type, 'process.sample');
  assert.equal(s.pid, process.pid);
  assert.ok(s.rssBytes > 1024 * 1024 && s.cpuNs > 0 && s.readBytes > 0);
  assert.equal(s.ioWaitNs, 5);
  assert.equal(s.netSendBytes, 6);
  assert.equal(s.netRecvBytes, 7);
  assert.ok((s.threads ?? 0) >= 1);
});

test('skips a pid whose start time no longer matches its upid (reused) and pids that are gone', () => {
  const stale = makeUpid(bootIdPrefix(readBootId()), process.pid, 1);
  assert.deepEqual(
    sampleProcesses([
      [process.pid, stale],
      [2 ** 22 + 1, 'aaaaaaaa-1-1'],
    ]),
    [],
  );
});

test('copies the source syscall classes and cgroup resources into the sample', () => {
  const syscalls = { sync: { count: 12, ns: 9_000_000 }, file: { count: 40, ns: 1_000_000 } };
  const cgroup = {
    memoryLimitBytes: 512 * 1024 * 1024,
    memoryUsageBytes: 100 * 1024 * 1024,
    pressure: { memory: { some10: 12.5, full10: 2 } },
  };
  const [s] = sampleProcesses([[process.pid, self()]], { counters: () => ({ ioWaitNs: 1, syscalls, cgroup }) });
  assert.equal(s?.type, 'process.sample');
  assert.deepEqual(s.syscalls, syscalls);
  assert.deepEqual(s.cgroup, cgroup);
  const [bare] = sampleProcesses([[process.pid, self()]], { counters: () => ({ ioWaitNs: 1 }) });
  assert.equal(bare && 'syscalls' in bare, false);
  assert.equal(bare && 'cgroup' in bare, false);
});
