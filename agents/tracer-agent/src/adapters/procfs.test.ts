import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeWaitStatus,
  parseCpuTimes,
  parseIo,
  parseMeminfo,
  parseNetDev,
  parsePressure,
  parseStat,
  parseStatus,
  readBootId,
  readCmdline,
  readStat,
} from './procfs.ts';

// A zombie's stat (recorded, with a comm holding spaces and a parenthesis).
const STAT =
  '4242 (my tool) x) Z 4200 4242 4200 0 -1 4228108 120 0 0 0 37 12 0 0 20 0 1 0 1530540 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 5 0 0 0 0 0 0 0 0 0 768';

test('parses /proc/<pid>/stat, comm with spaces and parentheses included', () => {
  const s = parseStat(STAT)!;
  assert.equal(s.pid, 4242);
  assert.equal(s.comm, 'my tool) x');
  assert.equal(s.state, 'Z');
  assert.equal(s.ppid, 4200);
  assert.equal(s.utimeTicks, 37);
  assert.equal(s.stimeTicks, 12);
  assert.equal(s.threads, 1);
  assert.equal(s.startTicks, 1530540);
  assert.equal(s.blkioTicks, 5);
  assert.equal(s.exitStatus, 768);
  assert.deepEqual(decodeWaitStatus(s.exitStatus), { exitCode: 3, signal: null, coreDumped: false });
});

test('decodes wait statuses: exit codes, signals, core dumps', () => {
  assert.deepEqual(decodeWaitStatus(0), { exitCode: 0, signal: null, coreDumped: false });
  assert.deepEqual(decodeWaitStatus(9), { exitCode: 0, signal: 9, coreDumped: false });
  assert.deepEqual(decodeWaitStatus(0x80 | 11), { exitCode: 0, signal: 11, coreDumped: true });
});

test('parses status, io, cpu times, meminfo, pressure and net/dev', () => {
  assert.deepEqual(
    parseStatus(
      'Name:\tbwa\nUid:\t1000\t1000\t1000\t1000\nVmHWM:\t  2048 kB\nVmRSS:\t  1024 kB\nvoluntary_ctxt_switches:\t5\nnonvoluntary_ctxt_switches:\t2\n',
    ),
    { uid: 1000, peakRssBytes: 2048 * 1024, rssBytes: 1024 * 1024, voluntaryCtxSwitches: 5, involuntaryCtxSwitches: 2 },
  );
  assert.deepEqual(
    parseIo(
      'rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n',
    ),
    {
      readBytes: 10,
      writeBytes: 20,
      storageReadBytes: 4096,
      storageWriteBytes: 8192,
    },
  );
  assert.deepEqual(parseCpuTimes('cpu  10 1 5 80 4 0 0 0 0 0\ncpu0 1 2 3 4\n'), { busyTicks: 16, totalTicks: 100 });
  assert.deepEqual(parseMeminfo('MemTotal:       1000 kB\nMemFree:  10 kB\nMemAvailable:    600 kB\n'), {
    totalBytes: 1000 * 1024,
    availableBytes: 600 * 1024,
  });
  assert.deepEqual(
    parsePressure('some avg10=1.50 avg60=0 avg300=0 total=1\nfull avg10=0.25 avg60=0 avg300=0 total=1\n'),
    {
      some10: 1.5,
      full10: 0.25,
    },
  );
  assert.deepEqual(parsePressure('some avg10=3.00 avg60=0 avg300=0 total=1\n'), { some10: 3 });
  const netDev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:  500       5    0    0    0     0          0         0      500       5    0    0    0     0       0          0
  eth0: 1000      10    0    0    0     0          0         0     2000      20    0    0    0     0       0          0
`;
  assert.deepEqual(parseNetDev(netDev), { recvBytes: 1000, sendBytes: 2000 });
});

test('reads this process from the real /proc', () => {
  const s = readStat(process.pid)!;
  assert.equal(s.pid, process.pid);
  assert.equal(s.state.length, 1);
  assert.ok(readCmdline(process.pid)!.length > 0);
  assert.match(readBootId(), /^[0-9a-f-]{36}$/);
  assert.equal(readStat(2 ** 22 + 1), undefined, 'a pid that cannot exist');
});
