import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { kmsgMessage, OomLogParser } from './kmsg.ts';

test('names the victim of a memory cgroup OOM kill from the kernel log (recorded on kernel 6.18, cgroup v1)', () => {
  const records = readFileSync(new URL('../../fixtures/kmsg-memcg-oom.txt', import.meta.url), 'utf8')
    .trim()
    .split('\n');
  const parser = new OomLogParser();
  const kills = records.map((r) => parser.push(kmsgMessage(r))).filter((k) => k !== undefined);
  assert.deepEqual(kills, [
    {
      victimPid: 1009,
      victimComm: 'python3',
      constraint: 'memcg',
      victimRssBytes: (65280 + 6668) * 1024,
      memoryLimitBytes: 65536 * 1024,
      memoryUsageBytes: 65536 * 1024,
    },
  ]);
});

test('a global OOM kill without its header line is still a kill', () => {
  const parser = new OomLogParser();
  const kill = parser.push(
    'Out of memory: Killed process 77 (java) total-vm:1000kB, anon-rss:800kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:1kB oom_score_adj:0',
  );
  assert.deepEqual(kill, { victimPid: 77, victimComm: 'java', constraint: 'global', victimRssBytes: 800 * 1024 });
});

test('takes the message from a record with continuation lines', () => {
  assert.equal(kmsgMessage('6,1,2,-;hello world\n SUBSYSTEM=x\n'), 'hello world');
});
