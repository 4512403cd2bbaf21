// Kernel evidence end to end: real processes that fail in silence under the eBPF agent
// (`./tracer run`), each classified from its failed call alone, the call named in the
// insight's sentence (what `tracer run` prints next to the failing tool).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Insight } from '@tracer/events';
import { describe, pidOf, replay, type TracedRun, traceRun, tracerRunUnavailable } from './fault-harness.ts';

const unavailable = tracerRunUnavailable();
const opt = { skip: unavailable ? `tracer run is not available yet: ${unavailable}` : false } as const;
const work = mkdtempSync(join(tmpdir(), 'tracer-kfaults-'));
const isRoot = process.getuid?.() === 0;

// One silent program: prints nothing, exits 1 when its call fails.
const src = `
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 3) return 2;
  if (!strcmp(argv[1], "read")) return open(argv[2], O_RDONLY) < 0;
  if (!strcmp(argv[1], "create")) return open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644) < 0;
  if (!strcmp(argv[1], "fill")) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return 1;
    static char buf[65536];
    for (int i = 0; i < 64; i++) if (write(fd, buf, sizeof buf) < 0) return 1;
    return 0;
  }
  if (!strcmp(argv[1], "connect")) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[2])) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    return connect(s, (struct sockaddr *)&a, sizeof a) < 0;
  }
  return 2;
}
`;
const bin = join(work, 'silent');
writeFileSync(`${bin}.c`, src);
const compiled = spawnSync('cc', ['-O1', '-o', bin, `${bin}.c`]).status === 0;

function bpfOnly(t: { skip: (m: string) => void }, run: TracedRun): boolean {
  if (run.mode === 'bpf') return false;
  t.skip(`the agent fell back to /proc sampling (${run.mode}): no failed-call records`);
  return true;
}

async function silentFailure(t: { skip: (m: string) => void }, args: string[]): Promise<Insight | undefined> {
  const run = await traceRun([bin, ...args]);
  if (bpfOnly(t, run)) return undefined;
  const pid = pidOf(run.events, (a) => a[0] === bin);
  const { insights } = replay(run.events);
  assert.equal(insights.length, 1, describe(insights));
  const i = insights[0]!;
  assert.equal(i.pid, pid, describe(insights));
  assert.deepEqual(i.errorLines, [], 'it printed nothing');
  return i;
}

const needCc = { ...opt, ...(compiled || opt.skip ? {} : { skip: 'no C compiler' }) };

test('silent missing input: missing_input naming the path from openat ENOENT', needCc, async (t) => {
  const path = join(work, 'no-such-input.fq');
  const i = await silentFailure(t, ['read', path]);
  if (!i) return;
  assert.equal(i.category, 'missing_input', describe([i]));
  assert.ok(i.summary.includes(`failed call openat ENOENT ${path}`), i.summary);
});

test('silent missing output directory: O_CREAT + ENOENT says the directory does not exist', needCc, async (t) => {
  const dir = join(work, 'no-such-dir');
  const i = await silentFailure(t, ['create', `${dir}/out.bam`]);
  if (!i) return;
  assert.equal(i.category, 'config_error', describe([i]));
  assert.ok(i.summary.includes(`output directory ${dir} does not exist`), i.summary);
});

test('silent ENOSPC on a 1 MiB tmpfs: disk_full naming the filesystem', needCc, async (t) => {
  const mnt = join(work, 'small');
  mkdirSync(mnt, { recursive: true });
  if (!isRoot || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status !== 0)
    return t.skip('needs root to mount a tmpfs');
  try {
    const i = await silentFailure(t, ['fill', `${mnt}/big.bin`]);
    if (!i) return;
    assert.equal(i.kind, 'disk_full', describe([i]));
    assert.equal(i.category, 'disk_full');
    assert.match(i.summary, /failed call write ENOSPC/);
    assert.ok(i.summary.includes(`filesystem ${mnt} is full`), i.summary);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('silent write into a read-only bind mount: permission, EROFS with the mount', needCc, async (t) => {
  const base = join(work, 'rw');
  const ro = join(work, 'ro');
  mkdirSync(base, { recursive: true });
  mkdirSync(ro, { recursive: true });
  if (
    !isRoot ||
    spawnSync('mount', ['--bind', base, ro]).status !== 0 ||
    spawnSync('mount', ['-o', 'remount,ro,bind', ro]).status !== 0
  ) {
    spawnSync('umount', [ro]);
    return t.skip('needs root for a read-only bind mount');
  }
  try {
    const i = await silentFailure(t, ['create', `${ro}/out.txt`]);
    if (!i) return;
    assert.equal(i.category, 'permission', describe([i]));
    assert.ok(i.summary.includes(`failed call openat EROFS ${ro}/out.txt`), i.summary);
    assert.ok(i.summary.includes(`read-only filesystem on ${ro}`), i.summary);
  } finally {
    spawnSync('umount', [ro]);
  }
});

test('silent refused connection to a closed loopback port: network with the address', needCc, async (t) => {
  // A port that was just free: listen, note it, close.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  const i = await silentFailure(t, ['connect', String(port)]);
  if (!i) return;
  assert.equal(i.category, 'network', describe([i]));
  assert.ok(i.summary.includes(`failed call connect ECONNREFUSED 127.0.0.1:${port}`), i.summary);
});

test('a command not found in a shell (exit 127): missing_dependency naming the program', opt, async (t) => {
  const run = await traceRun(['sh', '-c', 'no_such_tool_7f3 --version']);
  if (bpfOnly(t, run)) return;
  const { insights } = replay(run.events);
  assert.equal(insights.length, 1, describe(insights));
  assert.equal(insights[0]!.category, 'missing_dependency', describe(insights));
  assert.match(insights[0]!.summary, /no_such_tool_7f3/);
  assert.doesNotMatch(
    insights[0]!.summary,
    /command not found \(sh\)/,
    'the PATH search for sh itself is not the cause',
  );
});
