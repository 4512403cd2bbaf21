import assert from 'node:assert/strict';
import { test } from 'node:test';
import { splitCpuTime } from './cpu-time.ts';

test('no ticks at all: the exact runtime is all user time, as the kernel reports it', () => {
  assert.deepEqual(splitCpuTime({ sumExecNs: 1_127_353n, utimeNs: 0n, stimeNs: 0n }), {
    userNs: 1_127_353n,
    sysNs: 0n,
  });
});

test('only system ticks: all system time', () => {
  assert.deepEqual(splitCpuTime({ sumExecNs: 1_700_669n, utimeNs: 0n, stimeNs: 4_000_000n }), {
    userNs: 0n,
    sysNs: 1_700_669n,
  });
});

test('both: runtime split by the tick ratio, truncating like mul_u64_u64_div_u64', () => {
  // 3 user ticks, 1 system tick of 4 ms; 10 ms + 1 ns of real runtime.
  const r = splitCpuTime({ sumExecNs: 10_000_001n, utimeNs: 12_000_000n, stimeNs: 4_000_000n });
  assert.equal(r.sysNs, (4_000_000n * 10_000_001n) / 16_000_000n);
  assert.equal(r.userNs + r.sysNs, 10_000_001n);
});

test('products past 2^64 stay exact', () => {
  const big = 1n << 40n;
  const r = splitCpuTime({ sumExecNs: big * 3n, utimeNs: big, stimeNs: big * 2n });
  assert.equal(r.sysNs, big * 2n);
  assert.equal(r.userNs, big);
});

test('never below the split already reported (prev_cputime)', () => {
  // The kernel already reported 6 ms system; the new ratio would say 5 ms.
  const r = splitCpuTime({
    sumExecNs: 10_000_000n,
    utimeNs: 4_000_000n,
    stimeNs: 4_000_000n,
    prevUtimeNs: 2_000_000n,
    prevStimeNs: 6_000_000n,
  });
  assert.deepEqual(r, { userNs: 4_000_000n, sysNs: 6_000_000n });
  const u = splitCpuTime({
    sumExecNs: 10_000_000n,
    utimeNs: 1_000_000n,
    stimeNs: 9_000_000n,
    prevUtimeNs: 3_000_000n,
    prevStimeNs: 1_000_000n,
  });
  assert.deepEqual(u, { userNs: 3_000_000n, sysNs: 7_000_000n });
});

test('runtime not past the previous split: the previous split stands', () => {
  assert.deepEqual(splitCpuTime({ sumExecNs: 5n, utimeNs: 1n, stimeNs: 1n, prevUtimeNs: 3n, prevStimeNs: 4n }), {
    userNs: 3n,
    sysNs: 4n,
  });
});
