// Kernel tests of the root-cause evidence: failed syscalls (missing input, full disk,
// read-only mount, refused connection, a failing loop), syscall time by class, the output
// capture policy, cgroup ids, containers, and an OOM in a fresh memory cgroup. Real processes
// under the real bpf/ programs; needs root and BTF (skipped with the reason otherwise).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADDON_PATH } from '../src/adapters/bpf-addon.ts';
import { type BpfSource, bpfPrerequisiteProblem, createBpfSource } from '../src/adapters/bpf-source.ts';
import type { SourceRecord } from '../src/core/source.ts';
import { captured } from './captured.ts';

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
// The distribution's python, not a version-manager shim that is itself a shell script.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const skip = !existsSync(ADDON_PATH) ? `addon not built (${ADDON_PATH})` : bpfPrerequisiteProblem();

let source: BpfSource;
const records: SourceRecord[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'tracer-evidence-'));
const runtimeRoot = join(tmp, 'runtime');
const cleanups: (() => void)[] = [];

before(async () => {
  if (skip) return;
  source = await createBpfSource({
    descendantsOf: process.pid,
    bootId: BOOT_ID,
    runtimeRoots: {
      docker: join(runtimeRoot, 'docker'),
      containerdTasks: join(runtimeRoot, 'containerd'),
      containersStorage: [join(runtimeRoot, 'containers')],
    },
  });
  await source.start((batch) => records.push(...batch));
});

after(async () => {
  await source?.stop();
  for (const c of cleanups.reverse()) c();
  rmSync(tmp, { recursive: true, force: true });
});

function run(cmd: string, args: string[], opts: { cwd?: string; stdio?: 'pipe' | 'ignore' } = {}) {
  const child = spawn(cmd, args, {
    cwd: opts.cwd ?? tmp,
    stdio: ['ignore', opts.stdio ?? 'pipe', opts.stdio ?? 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += d));
  child.stderr?.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const { until, of, exitOf } = captured(records, () => source.drain());
const errorsOf = (pid: number) => of('syscall.error', pid);

/** Runs a command to its end and returns its exit record and failed calls. */
async function traced(cmd: string, args: string[], opts: { cwd?: string } = {}) {
  const { child, done } = run(cmd, args, opts);
  const result = await done;
  const exit = await exitOf(child.pid!);
  return { result, exit, errors: errorsOf(child.pid!), pid: child.pid! };
}

test('a silent tool that opens a missing input and exits 1: ENOENT with the path', { skip }, async () => {
  mkdirSync(join(tmp, 'work'));
  const py = 'import sys\ntry:\n    open("data/sample1.fq")\nexcept OSError:\n    sys.exit(1)';
  const { result, exit, errors } = await traced(PYTHON, ['-c', py], { cwd: join(tmp, 'work') });
  assert.equal(result.code, 1);
  assert.equal(result.stdout + result.stderr, '', 'the tool says nothing');
  assert.equal(exit.exitCode, 1);
  const missing = errors.find((e) => e.errno === 'ENOENT' && e.path === join(tmp, 'work/data/sample1.fq'));
  assert.ok(missing, `ENOENT on the input among ${JSON.stringify(errors.map((e) => [e.syscall, e.errno, e.path]))}`);
  assert.equal(missing.syscall, 'openat');
  assert.equal(missing.count, 1);
  assert.equal((missing.flags ?? -1) & 3, 0, 'opened for reading: an input');
  assert.ok(missing.firstTs! <= missing.lastTs! && missing.lastTs! <= exit.ts);
  // Loader and locale probing is not reported, and the process's failures are few.
  assert.ok(!errors.some((e) => e.path === '/etc/ld.so.preload'));
  assert.ok(errors.length <= 10, `${errors.length} failures reported`);
  // It precedes the exit in the stream, so a consumer has it when the process ends.
  assert.ok(records.indexOf(missing) < records.indexOf(exit));
});

test('writing to a full tmpfs: ENOSPC with the file and its mount point', { skip }, async (t) => {
  const mnt = join(tmp, 'full');
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
  } catch (err) {
    return t.skip(`cannot mount a tmpfs: ${(err as Error).message}`);
  }
  cleanups.push(() => execFileSync('umount', ['-l', mnt]));
  const { result, errors } = await traced('/bin/dd', ['if=/dev/zero', `of=${mnt}/out.bam`, 'bs=4k', 'count=64']);
  assert.notEqual(result.code, 0);
  const full = errors.find((e) => e.errno === 'ENOSPC');
  assert.ok(full, JSON.stringify(errors));
  assert.equal(full.syscall, 'write');
  assert.equal(full.path, `${mnt}/out.bam`);
  assert.equal(full.mount, mnt);
});

test('writing into a read-only bind mount: EROFS with the path and mount', { skip }, async (t) => {
  const base = join(tmp, 'ro-base');
  const ro = join(tmp, 'ro');
  mkdirSync(base);
  mkdirSync(ro);
  try {
    execFileSync('mount', ['--bind', base, ro]);
    execFileSync('mount', ['-o', 'remount,ro,bind', ro]);
  } catch (err) {
    return t.skip(`cannot make a read-only bind mount: ${(err as Error).message}`);
  }
  cleanups.push(() => execFileSync('umount', ['-l', ro]));
  const { result, errors } = await traced('/bin/sh', ['-c', `echo x > ${ro}/results.txt`]);
  assert.notEqual(result.code, 0);
  const rofs = errors.find((e) => e.errno === 'EROFS');
  assert.ok(rofs, JSON.stringify(errors));
  assert.equal(rofs.syscall, 'openat');
  assert.equal(rofs.path, `${ro}/results.txt`);
  assert.equal(rofs.mount, ro);
  assert.notEqual((rofs.flags ?? 0) & 3, 0, 'opened for writing');
});

test('connecting to a closed loopback port: ECONNREFUSED with the address', { skip }, async () => {
  // A port that was just free: bound, then closed.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  const py = `import socket, sys\ntry:\n    socket.create_connection(("127.0.0.1", ${port}))\nexcept OSError:\n    sys.exit(2)`;
  const { result, errors } = await traced(PYTHON, ['-c', py]);
  assert.equal(result.code, 2);
  const refused = errors.find((e) => e.errno === 'ECONNREFUSED');
  assert.ok(refused, JSON.stringify(errors));
  assert.equal(refused.syscall, 'connect');
  assert.equal(refused.addr, `127.0.0.1:${port}`);
});

test('100,000 failing opens: one record with the count, nothing lost', { skip }, async () => {
  const before = source.kernelLosses();
  const py = [
    'import os',
    'for i in range(100000):',
    '    try: os.open("/nonexistent-input/reads.fq", os.O_RDONLY)',
    '    except OSError: pass',
    'raise SystemExit(3)',
  ].join('\n');
  const { result, errors } = await traced(PYTHON, ['-c', py]);
  assert.equal(result.code, 3);
  const loop = errors.filter((e) => e.path === '/nonexistent-input/reads.fq');
  assert.equal(loop.length, 1, JSON.stringify(loop));
  assert.equal(loop[0]!.count, 100000);
  assert.equal(loop[0]!.errno, 'ENOENT');
  assert.ok(loop[0]!.lastTs! > loop[0]!.firstTs!);
  const after = source.kernelLosses();
  assert.equal(after.ringbuf, before.ringbuf, 'ring buffer losses');
  assert.equal(after.syscallErrors, before.syscallErrors, 'failures turned away');
  assert.equal(source.stats().droppedUser, 0);
});

test('syscall classes: a tool blocked in fsync says so, as long as it measured itself; a sleep is wait time', {
  skip,
}, async () => {
  // Half a second of write + fsync on the disk (not tmpfs), then 0.2 s asleep. The tool times
  // its own fsync calls: how much of that is asleep depends on the disk (on a fast virtual disk
  // most of an fsync can be CPU), so the kernel's figure is checked against it, not a constant.
  const file = join('/var/tmp', `tracer-evidence-${process.pid}.dat`);
  cleanups.push(() => rmSync(file, { force: true }));
  const py = [
    'import os, time',
    `fd = os.open("${file}", os.O_WRONLY | os.O_CREAT)`,
    't = time.time(); in_fsync = 0',
    'while time.time() - t < 0.5:',
    '    os.write(fd, b"x" * 4096); s = time.perf_counter_ns(); os.fsync(fd); in_fsync += time.perf_counter_ns() - s',
    'print(in_fsync)',
    'time.sleep(0.2)',
  ].join('\n');
  const { exit, result } = await traced(PYTHON, ['-c', py]);
  const inFsyncNs = Number(result.stdout);
  const sc = exit.syscalls!;
  assert.ok(sc, 'syscalls on the exit record');
  const blocked = Object.entries(sc).filter(([k]) => k !== 'wait');
  const others = blocked.filter(([k]) => k !== 'sync').reduce((n, [, c]) => n + c.ns, 0);
  const figures = `sync ${sc.sync?.ns} ns asleep of ${inFsyncNs} ns in fsync; other blocked ${others} ns`;
  assert.ok(sc.sync!.count >= 1, figures);
  // Asleep in fsync: never more than the time the tool spent in it, and most of its blocked time.
  assert.ok(sc.sync!.ns <= inFsyncNs, figures);
  assert.ok(sc.sync!.ns > 0.25 * inFsyncNs && sc.sync!.ns > others, figures);
  assert.ok(sc.wait!.ns >= 190e6 && sc.wait!.ns < 400e6, `wait ${sc.wait?.ns}`);
  // One thread: time asleep in syscalls never exceeds the process's life.
  const total = Object.values(sc).reduce((n, c) => n + c.ns, 0);
  assert.ok(total <= exit.durationNs!, `${total} > ${exit.durationNs}`);
});

test('a live process: syscall classes and its cgroup memory and pressure, for its samples', { skip }, async () => {
  // Sleeps of 50 ms, so some have ended (and been counted) when we look.
  const py = 'import time\nprint("up", flush=True)\nfor i in range(10): time.sleep(0.05)';
  const { child, done } = run(PYTHON, ['-c', py]);
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  await sleep(200);
  const live = source.counters(child.pid!);
  assert.ok(live?.syscalls, 'counters carry syscall classes');
  assert.ok(live.syscalls.wait!.count >= 2 && live.syscalls.wait!.ns >= 100e6, JSON.stringify(live.syscalls));
  // Its cgroup's memory (this host: v1 memory controller) and pressure (unified PSI).
  assert.ok((live.cgroup?.memoryUsageBytes ?? 0) > 0, JSON.stringify(live.cgroup));
  if (existsSync('/proc/pressure/memory')) assert.equal(typeof live.cgroup?.pressure?.memory?.some10, 'number');
  await done;
});

test('output policy: stdout into a file or /dev/null is skipped and counted, stderr into a file kept', {
  skip,
}, async () => {
  // Tools started with their streams redirected, as a workflow engine starts them.
  const script = [
    `/bin/echo output-data > ${tmp}/out.txt`,
    '/bin/echo more-output-data > /dev/null',
    `/bin/sh -c 'echo diagnostic-line >&2' 2> ${tmp}/err.txt`,
    'echo to-the-pipe',
  ].join('\n');
  const { child, done } = run('/bin/sh', ['-c', script]);
  const result = await done;
  assert.equal(result.stdout, 'to-the-pipe\n');
  const exit = await exitOf(child.pid!);
  const kids = of('process.fork').filter((f) => f.ppid === child.pid);
  const exits = await Promise.all(kids.map((k) => exitOf(k.pid)));
  const pids = new Set([child.pid!, ...kids.map((k) => k.pid)]);
  const chunks = of('log.chunk').filter((c) => pids.has(c.pid));
  const text = chunks.map((c) => `${c.stream}:${c.text}`).join('');
  assert.ok(!text.includes('output-data'), text);
  assert.ok(text.includes('stderr:diagnostic-line\n'), text);
  assert.ok(text.includes('stdout:to-the-pipe\n'), text);
  assert.equal(exit.outputSkippedBytes, undefined, 'the shell itself wrote only to the pipe');
  const skipped = exits.map((e) => e.outputSkippedBytes ?? 0);
  assert.deepEqual(skipped, ['output-data\n'.length, 'more-output-data\n'.length, 0]);
  assert.ok(source.kernelLosses().logSkippedBytes >= skipped[0]! + skipped[1]!);
});

/** A new memory cgroup (v1 here, v2 on unified hosts) at `rel` under the hierarchy root. */
function makeCgroup(rel: string, limit?: number): { dir: string; procs: string; remove: () => void } | string {
  let root: string;
  let limitFile: string;
  if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
    root = '/sys/fs/cgroup/memory';
    limitFile = 'memory.limit_in_bytes';
  } else if (existsSync('/sys/fs/cgroup/cgroup.subtree_control')) {
    if (!readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').includes('memory')) {
      return 'cgroup v2 without the memory controller enabled at the root';
    }
    root = '/sys/fs/cgroup';
    limitFile = 'memory.max';
  } else {
    return 'no memory cgroup hierarchy';
  }
  const made: string[] = [];
  let dir = root;
  try {
    for (const part of rel.split('/').filter(Boolean)) {
      dir = join(dir, part);
      if (!existsSync(dir)) {
        mkdirSync(dir);
        made.push(dir);
      }
    }
    if (limit !== undefined) writeFileSync(join(dir, limitFile), String(limit));
  } catch (err) {
    return `cannot create a memory cgroup: ${(err as Error).message}`;
  }
  return {
    dir,
    procs: join(dir, 'cgroup.procs'),
    remove: () => {
      for (const d of made.reverse()) {
        for (let i = 0; i < 50; i++) {
          try {
            rmdirSync(d);
            break;
          } catch {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
          }
        }
      }
    },
  };
}

test('processes started in a fresh memory cgroup get its id; an OOM there reports limit and usage', {
  skip,
}, async (t) => {
  const limit = 48 * 1024 * 1024;
  const cg = makeCgroup(`tracer-evidence-${process.pid}`, limit);
  if (typeof cg === 'string') return t.skip(cg);
  try {
    const id = String(statSync(cg.dir).ino);
    const grow = 'a = []\nwhile True: a.append(bytearray(1 << 20))';
    const { child, done } = run('/bin/sh', ['-c', `echo $$ > ${cg.procs}; /bin/true; exec ${PYTHON} -c '${grow}'`]);
    const result = await done;
    assert.equal(result.signal, 'SIGKILL');
    // The kill can come before the agent's next ring-buffer poll: wait for the records.
    const inside = await until('both execs', () => {
      const execs = of('process.exec').filter((e) => e.ppid === child.pid || e.pid === child.pid);
      const found = execs.filter((e) => e.argv[0] === '/bin/true' || e.argv[0] === PYTHON);
      return found.length >= 2 ? found : undefined;
    });
    assert.equal(inside.length, 2);
    for (const e of inside) assert.equal(e.cgroupId, id, `cgroupId of ${e.argv[0]}`);
    const oom = await until('oom.kill', () => of('oom.kill').find((o) => o.victimPid === child.pid));
    assert.equal(oom.constraint, 'memcg');
    assert.equal(oom.cgroupId, id);
    assert.equal(oom.memoryLimitBytes, limit);
    assert.ok(oom.memoryUsageBytes! >= limit * 0.9 && oom.memoryUsageBytes! <= limit, `usage ${oom.memoryUsageBytes}`);
    assert.ok(oom.victimRssBytes! > limit / 2);
  } finally {
    cg.remove();
  }
});

test('a container cgroup: start at its first exec with image and pod, exec containerId, stop at rmdir', {
  skip,
}, async (t) => {
  const id = 'c0ffee'.padEnd(64, '0123456789abcdef');
  // The runtime's state as Docker keeps it (under dockershim, with the kubelet's labels).
  const stateDir = join(runtimeRoot, 'docker', 'containers', id);
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(
    join(stateDir, 'config.v2.json'),
    JSON.stringify({
      Name: '/k8s_align_bwa-7f9c',
      Config: {
        Image: 'quay.io/biocontainers/bwa:0.7.17',
        Labels: { 'io.kubernetes.pod.name': 'align-sample1', 'io.kubernetes.pod.namespace': 'genomics' },
      },
    }),
  );
  const cg = makeCgroup(`docker/${id}`);
  if (typeof cg === 'string') return t.skip(cg);
  const cgroupId = String(statSync(cg.dir).ino);
  let removed = false;
  try {
    const { child, done } = run('/bin/sh', ['-c', `echo $$ > ${cg.procs}; /bin/echo in-container; /bin/true`]);
    await done;
    await exitOf(child.pid!);
    const start = await until('container.start', () => of('container.start').find((s) => s.containerId === id));
    assert.deepEqual(
      { ...start, ts: 0 },
      {
        type: 'container.start',
        ts: 0,
        containerId: id,
        cgroupId,
        runtime: 'docker',
        image: 'quay.io/biocontainers/bwa:0.7.17',
        pod: 'align-sample1',
        namespace: 'genomics',
      },
    );
    const execs = of('process.exec').filter((e) => e.ppid === child.pid);
    assert.equal(execs.length, 2);
    for (const e of execs) assert.equal(e.containerId, id);
    assert.ok(records.indexOf(start) < records.indexOf(execs[0]!), 'start precedes the first exec');
    assert.equal(of('container.start').filter((s) => s.containerId === id).length, 1);
    // The shell itself exec'd before it moved: not in the container.
    assert.equal(of('process.exec', child.pid!)[0]!.containerId, undefined);
    cg.remove();
    removed = true;
    const stop = await until('container.stop', () => of('container.stop').find((s) => s.containerId === id));
    assert.equal(stop.cgroupId, cgroupId);
  } finally {
    if (!removed) cg.remove();
  }
});
