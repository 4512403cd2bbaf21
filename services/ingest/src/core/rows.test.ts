import assert from 'node:assert/strict';
import { test } from 'node:test';
import { goldenEvents, type TelemetryEvent } from '@tracer/events';
import { estimateBoots, rowCount, splitUpid, toRows, tsUs } from './rows.ts';

const golden = <T extends TelemetryEvent['type']>(type: T) =>
  structuredClone(goldenEvents.find((e) => e.type === type)!) as Extract<TelemetryEvent, { type: T }>;

const BOOT = 1_763_700_000_000_000_000;
const upid = '5f1c9a3e-4242-1234567890';

test('boot time is bounded by fork/exec times and by exits with their duration; the smallest bound wins', () => {
  const exec = { ...golden('process.exec'), ts: BOOT + 1_234_567_890 + 5_000 };
  const exit = { ...golden('process.exit'), ts: BOOT + 1_234_567_890 + 2_500_000_000, durationNs: 2_500_000_000 };
  assert.deepEqual(estimateBoots([exec, exit]), [{ host: 'ip-10-0-1-7', bootPrefix: '5f1c9a3e', bootWallNs: BOOT }]);
  assert.deepEqual(estimateBoots([exec]), [{ host: 'ip-10-0-1-7', bootPrefix: '5f1c9a3e', bootWallNs: BOOT + 5_000 }]);
  assert.deepEqual(estimateBoots([golden('process.sample')]), []);
  assert.deepEqual(splitUpid(upid), { bootPrefix: '5f1c9a3e', startNs: 1234567890 });
});

test('fork, exec and exit of one process fold into one row keyed by its start', () => {
  const fork = { ...golden('process.fork'), pid: 4242, upid, ppid: 1, seq: 3 };
  const exec = golden('process.exec');
  const exit = golden('process.exit');
  const rows = toRows([fork, exec, exit], () => BOOT);
  assert.equal(rows.processes.length, 1);
  const p = rows.processes[0]!;
  assert.equal(p.start_ts_us, tsUs(BOOT + 1234567890));
  assert.deepEqual([p.exe, p.exec_seq, p.exit_seq, p.exit_code, p.signal, p.ppid], ['/usr/bin/bwa', 4, 10, 0, 9, 1]);
  assert.deepEqual(p.argv, ['bwa', 'mem', 'ref.fa', 'r1.fq']);
  assert.equal(p.end_ts_us, tsUs(exit.ts));
  // The exit alone, in a later batch, lands on the same key.
  assert.equal(toRows([exit], () => BOOT).processes[0]!.start_ts_us, p.start_ts_us);
});

test('every stored kind gets its row; the rest is counted as not stored', () => {
  const rows = toRows(goldenEvents, () => BOOT);
  assert.deepEqual(
    [
      rows.processes.length,
      rows.processSamples.length,
      rows.hostInfo.length,
      rows.hostSamples.length,
      rows.logs.length,
      rows.fileOpens.length,
      rows.oomKills.length,
    ],
    [1, 1, 1, 1, 1, 1, 1],
  );
  const stored = new Set([
    'process.fork',
    'process.exec',
    'process.exit',
    'process.sample',
    'host.info',
    'host.sample',
    'log.chunk',
    'file.open',
    'oom.kill',
  ]);
  assert.equal(rows.notStored, goldenEvents.filter((e) => !stored.has(e.type)).length);
  assert.equal(rowCount(rows), 7);
  assert.equal(rows.oomKills[0]!.victim_pid, 4242);
  assert.equal(toRows([{ ...golden('process.sample'), state: '' }], () => BOOT).processSamples[0]!.state, null);
  assert.throws(() => toRows([golden('process.exec')], () => undefined), /no boot time/);
});
