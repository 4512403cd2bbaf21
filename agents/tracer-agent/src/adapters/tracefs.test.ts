import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ensureTracefs } from './tracefs.ts';

function fakeHost(paths: string[], onMount?: (target: string) => void) {
  const have = new Set(paths);
  const mounts: string[] = [];
  return {
    mounts,
    deps: {
      exists: (p: string) => have.has(p),
      mount: (target: string) => {
        mounts.push(target);
        onMount?.(target);
        have.add(`${target}/events`);
      },
    },
  };
}

test('a mounted tracefs is used as it is, the debugfs path too', () => {
  const own = fakeHost(['/sys/kernel/tracing', '/sys/kernel/tracing/events']);
  assert.deepEqual(ensureTracefs(own.deps), { ok: true, root: '/sys/kernel/tracing', mounted: false });
  const debug = fakeHost(['/sys/kernel/tracing', '/sys/kernel/debug/tracing/events']);
  assert.deepEqual(ensureTracefs(debug.deps), { ok: true, root: '/sys/kernel/debug/tracing', mounted: false });
  assert.deepEqual([...own.mounts, ...debug.mounts], []);
});

test('an unmounted tracefs is mounted at /sys/kernel/tracing', () => {
  const host = fakeHost(['/sys/kernel/tracing']);
  assert.deepEqual(ensureTracefs(host.deps), { ok: true, root: '/sys/kernel/tracing', mounted: true });
  assert.deepEqual(host.mounts, ['/sys/kernel/tracing']);
});

test('a refused mount says what is lost and the command to run', () => {
  const err = Object.assign(new Error('exit 32'), { stderr: Buffer.from('mount: permission denied\n') });
  const host = fakeHost(['/sys/kernel/tracing'], () => {
    throw err;
  });
  const state = ensureTracefs(host.deps);
  assert.equal(state.ok, false);
  if (state.ok) return;
  assert.match(state.problem, /mount: permission denied/);
  assert.match(state.problem, /file opens, stdout\/stderr and failed syscalls are not captured/);
  assert.match(state.problem, /mount -t tracefs tracefs \/sys\/kernel\/tracing/);
});
