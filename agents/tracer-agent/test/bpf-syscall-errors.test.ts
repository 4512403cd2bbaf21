// The failed-syscall policy without a kernel: raw records as the addon decodes them, in,
// syscall.error records out.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RawRecord } from '../src/adapters/bpf-addon.ts';
import { captureTargetBits, OUTPUT_CAPTURE_POLICY } from '../src/adapters/bpf-source.ts';
import {
  errnoName,
  mountOfPath,
  parseMountPoints,
  SyscallErrorAggregator,
} from '../src/adapters/bpf-syscall-errors.ts';

type RawError = Extract<RawRecord, { kind: 'syscallError' }>;

const UPID = 'abcdef01-100-5000';
let key = 0;
function failure(over: Partial<RawError>): RawError {
  return {
    kind: 'syscallError',
    pid: 100,
    tsNs: 1_000,
    startNs: 5000n,
    key: String(++key),
    nr: 257,
    syscall: 'openat',
    err: 2,
    object: 'path',
    fd: -100,
    openFlags: 0,
    pathTruncated: false,
    baseTruncated: false,
    path: '/data/in.fq',
    ...over,
  };
}

const agg = (mounts: string[] = ['/']) =>
  new SyscallErrorAggregator({
    toWallNs: (ns) => ns + 1_000_000,
    mountOf: (path) => mountOfPath(path, mounts),
  });

test('a failed process: its last failures and the decisive ones, probing left out', () => {
  const a = agg();
  a.onError(failure({ path: '/etc/ld.so.preload', syscall: 'access', tsNs: 10 }), UPID);
  a.onError(failure({ path: '/usr/lib/locale/C.UTF-8/LC_CTYPE', tsNs: 11 }), UPID);
  a.onError(failure({ path: '/tmp/x', syscall: 'readlink', err: 22, tsNs: 12 }), UPID);
  a.onError(failure({ path: '/usr/bin/pyvenv.cfg', tsNs: 13 }), UPID);
  a.onError(failure({ path: '/usr/bin/python3.11._pth', tsNs: 14 }), UPID);
  a.onError(failure({ path: 'reads/s1.fq', base: '/work/run', tsNs: 20 }), UPID);
  const out = a.onExit(UPID, { failed: true });
  assert.deepEqual(out, [
    {
      type: 'syscall.error',
      ts: 1_000_020,
      pid: 100,
      upid: UPID,
      syscall: 'openat',
      errno: 'ENOENT',
      count: 1,
      path: '/work/run/reads/s1.fq',
      flags: 0,
      firstTs: 1_000_020,
      lastTs: 1_000_020,
    },
  ]);
  assert.deepEqual(a.stats, { emitted: 1, omitted: 5, evicted: 0 });
  assert.equal(a.processes, 0);
});

test('a successful process: only failures that mean trouble (no space, refused, no memory)', () => {
  const a = agg(['/', '/scratch']);
  a.onError(failure({ path: '/opt/conf.yaml', tsNs: 1 }), UPID);
  a.onError(failure({ path: '/etc/shadow', err: 13, tsNs: 2 }), UPID);
  a.onError(failure({ path: '/scratch/tmp.1', err: 28, syscall: 'openat', openFlags: 0o101, tsNs: 3 }), UPID);
  a.onError(
    failure({ object: 'addr', path: undefined, addr: '10.0.0.5:5432', syscall: 'connect', nr: 42, err: 111, tsNs: 4 }),
    UPID,
  );
  const out = a.onExit(UPID, { failed: false });
  assert.deepEqual(
    out.map((e) => [e.errno, e.path ?? e.addr, e.mount]),
    [
      ['ENOSPC', '/scratch/tmp.1', '/scratch'],
      ['ECONNREFUSED', '10.0.0.5:5432', undefined],
    ],
  );
  assert.equal(out[0]!.flags, 0o101);
  assert.equal(out[1]!.flags, undefined, 'flags only for opens');
});

test('repeats: the kernel counts, one event carries the total; eviction and re-recording add up', () => {
  const a = agg();
  const first = failure({ path: '/in/missing', tsNs: 100 });
  a.onError(first, UPID);
  const count = (n: number, last: number, final = false) =>
    a.onCount(
      {
        kind: 'syscallErrorCount',
        pid: 100,
        tsNs: last,
        startNs: 5000n,
        key: first.key,
        count: n,
        firstNs: 100,
        lastNs: last,
        final,
      },
      UPID,
    );
  count(40_000, 500);
  count(60_000, 900, true);
  // The kernel's table let it go and met it again: a new series of the same failure.
  a.onError({ ...first, tsNs: 1000 }, UPID);
  count(40_000, 1500, true);
  const [e, ...rest] = a.onExit(UPID, { failed: true });
  assert.equal(rest.length, 0);
  assert.equal(e!.count, 100_000);
  assert.equal(e!.firstTs, 1_000_100);
  assert.equal(e!.lastTs, 1_001_500);
});

test('long-running processes: significant series flushed as they grow, the rest at the end', () => {
  const a = agg(['/', '/out']);
  const full = failure({ path: '/out/a.bam', err: 28, syscall: 'write', object: 'file', mount: '/out', tsNs: 10 });
  a.onError(full, UPID);
  a.onError(failure({ path: '/in/b', tsNs: 11 }), UPID);
  assert.deepEqual(
    a.flush().map((e) => [e.errno, e.count]),
    [['ENOSPC', 1]],
  );
  assert.deepEqual(a.flush(), [], 'nothing new');
  a.onCount(
    {
      kind: 'syscallErrorCount',
      pid: 100,
      tsNs: 50,
      startNs: 5000n,
      key: full.key,
      count: 7,
      firstNs: 10,
      lastNs: 50,
      final: false,
    },
    UPID,
  );
  const again = a.flush();
  assert.deepEqual(
    again.map((e) => [e.errno, e.count, e.firstTs, e.lastTs]),
    [['ENOSPC', 6, 1_000_050, 1_000_050]],
  );
  // The process ends: what is left, by the exit policy.
  assert.deepEqual(
    a.onExit(UPID, { failed: true }).map((e) => [e.errno, e.count]),
    [['ENOENT', 1]],
  );
});

test('per-process bound: the oldest insignificant series give way, counted', () => {
  const a = new SyscallErrorAggregator({ toWallNs: (n) => n, maxSeriesPerProcess: 4 });
  a.onError(failure({ err: 28, path: '/x', tsNs: 1 }), UPID);
  for (let i = 0; i < 10; i++) a.onError(failure({ path: `/p${i}`, tsNs: 10 + i }), UPID);
  const out = a.onExit(UPID, { failed: true });
  assert.deepEqual(
    out.map((e) => e.path),
    ['/x', '/p7', '/p8', '/p9'],
  );
  assert.equal(a.stats.evicted, 7);
});

test('errno names and mount points', () => {
  assert.equal(errnoName(2), 'ENOENT');
  assert.equal(errnoName(122), 'EDQUOT');
  assert.equal(errnoName(9999), 'E9999');
  const mounts = parseMountPoints(
    [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '30 22 0:27 / /mnt/scratch\\040space rw - tmpfs tmpfs rw,size=64k',
      '31 22 0:28 / /mnt rw - tmpfs tmpfs rw',
    ].join('\n'),
  );
  assert.deepEqual(mounts, ['/', '/mnt/scratch space', '/mnt']);
  assert.equal(mountOfPath('/mnt/scratch space/a/b', mounts), '/mnt/scratch space');
  assert.equal(mountOfPath('/mnt/scratch2/x', mounts), '/mnt');
  assert.equal(mountOfPath('/home/u/../../mnt/x', mounts), '/mnt');
  assert.equal(mountOfPath('/etc/hosts', mounts), '/');
});

test('output capture policy: stdout into pipes, ttys, sockets; stderr also into files and devices', () => {
  assert.deepEqual(captureTargetBits(OUTPUT_CAPTURE_POLICY), [
    (1 << 1) | (1 << 2) | (1 << 12),
    (1 << 1) | (1 << 2) | (1 << 12) | (1 << 8) | (1 << 3),
  ]);
  assert.deepEqual(captureTargetBits({ stdout: [], stderr: ['file'] }), [0, 1 << 8]);
});
