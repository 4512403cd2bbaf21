// Kernel tests: the real bpf/ programs in the running kernel, through createBpfSource.
// Needs root (CAP_BPF + CAP_PERFMON) and a kernel with BTF; skipped, with the reason,
// where BPF cannot load. Each test runs known commands as children of this process (the
// capture root) and waits for their exit records.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ADDON_PATH } from '../src/adapters/bpf-addon.ts';
import {
  type BpfSource,
  bpfPrerequisiteProblem,
  createBpfSource,
  isKernelLimitation,
} from '../src/adapters/bpf-source.ts';
import type { SourceRecord } from '../src/core/source.ts';
import { captured, type Of } from './captured.ts';

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const skip = !existsSync(ADDON_PATH) ? `addon not built (${ADDON_PATH})` : bpfPrerequisiteProblem();

const BPFTOOL = existsSync('/usr/sbin/bpftool') ? '/usr/sbin/bpftool' : 'bpftool';

let source: BpfSource;
const records: SourceRecord[] = [];
const tmp = mkdtempSync(join(tmpdir(), 'tracer-bpf-test-'));

before(async () => {
  if (skip) return;
  source = await createBpfSource({ descendantsOf: process.pid, bootId: BOOT_ID });
  await source.start((batch) => records.push(...batch));
});

after(async () => {
  await source?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function run(cmd: string, args: string[], opts: { cwd?: string; stdin?: 'pipe' | 'ignore' } = {}) {
  const child = spawn(cmd, args, { cwd: opts.cwd ?? tmp, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>(
    (resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

const { until, of, exitOf } = captured(records, () => source.drain());
const execsOf = (pred: (e: Of<'process.exec'>) => boolean) => of('process.exec').filter(pred);

test('exec and exit of a subtree: exit codes, signals, core dumps', { skip }, async () => {
  const script = [
    'ulimit -c unlimited 2>/dev/null',
    '/bin/sh -c "exit 0"',
    '/bin/sh -c "exit 3"',
    '/bin/sh -c "kill -TERM \\$\\$"',
    '/bin/sh -c "kill -SEGV \\$\\$"',
    'exit 7',
  ].join('\n');
  const { child, done } = run('/bin/sh', ['-c', script]);
  const result = await done;
  assert.equal(result.code, 7);
  const rootExit = await exitOf(child.pid!);
  assert.equal(rootExit.exitCode, 7);
  assert.equal(rootExit.signal, null);

  const rootExec = execsOf((e) => e.pid === child.pid)[0]!;
  assert.deepEqual(rootExec.argv, ['/bin/sh', '-c', script]);
  assert.equal(rootExec.exe, '/usr/bin/dash');
  assert.equal(rootExec.cwd, tmp);
  assert.equal(rootExec.argvTruncated, false);
  assert.equal(rootExec.uid, process.getuid!());
  assert.match(rootExec.cgroupId!, /^[0-9]+$/);
  assert.equal(rootExec.ppid, process.pid);
  assert.match(rootExec.upid, new RegExp(`^${BOOT_ID.replace(/-/g, '').slice(0, 8)}-${child.pid}-[0-9]+$`));
  assert.equal(rootExec.parentUpid?.split('-')[1], String(process.pid));

  // The four children, in order: their forks name the shell as parent.
  const kids = of('process.fork').filter((f) => f.ppid === child.pid);
  assert.equal(kids.length, 4);
  const exits = await Promise.all(kids.map((k) => exitOf(k.pid)));
  assert.deepEqual(
    exits.map((e) => [e.exitCode, e.signal]),
    [
      [0, null],
      [3, null],
      [0, 15],
      [0, 11],
    ],
  );
  assert.equal(exits[2]!.coreDumped, false);
  // core_pattern writes a file in the cwd here ("core"); a pipe helper or RLIMIT_CORE can refuse.
  const corePattern = readFileSync('/proc/sys/kernel/core_pattern', 'utf8').trim();
  if (!corePattern.startsWith('|')) assert.equal(exits[3]!.coreDumped, true);
  for (const e of exits) {
    assert.equal(e.upid, kids.find((k) => k.pid === e.pid)!.upid);
    assert.ok(e.durationNs! > 0);
    assert.ok(e.cpuUserNs + e.cpuSysNs > 0);
    assert.ok(e.peakRssBytes > 0);
  }
});

test("execPeakRssBytes: the exec'd image's own peak, not the forking parent's", { skip }, async (t) => {
  // A parent holding 8 or 200 MiB forks a child that execs python, touches 50 MiB and prints
  // its VmHWM; one child is threaded, one execs again (same pid) into a 20 MiB image.
  const child = join(tmp, 'peak-child.py');
  writeFileSync(
    child,
    [
      'import os, sys, threading',
      'b = bytearray(int(sys.argv[1]) << 20)',
      'for i in range(0, len(b), 4096): b[i] = 1',
      'if sys.argv[2] == "thread": t = threading.Thread(target=lambda: None); t.start(); t.join()',
      'if sys.argv[2] == "again": os.execv(sys.executable, [sys.executable, __file__, "20", "-"])',
      'print([l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1], flush=True)',
    ].join('\n'),
  );
  const py = [
    'import os, sys, json',
    'out = []',
    'for parent_mib, mode in ((8, "-"), (200, "-"), (200, "thread"), (200, "again")):',
    '    hold = bytearray(parent_mib << 20)',
    '    for i in range(0, len(hold), 4096): hold[i] = 1',
    '    r, w = os.pipe()',
    '    pid = os.fork()',
    '    if pid == 0:',
    '        os.dup2(w, 1)',
    `        os.execv(sys.executable, [sys.executable, ${JSON.stringify(child)}, "50", mode])`,
    '    os.close(w)',
    '    hwm = int(os.read(r, 100).decode().strip() or 0) * 1024',
    '    _, status, ru = os.wait4(pid, 0)',
    '    out.append({"pid": pid, "parent": parent_mib, "mode": mode, "hwm": hwm, "maxrss": ru.ru_maxrss * 1024})',
    '    del hold',
    'print(json.dumps(out))',
  ].join('\n');
  const { done } = run(PYTHON, ['-c', py]);
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  const MiB = 1 << 20;
  const children = JSON.parse(result.stdout) as {
    pid: number;
    parent: number;
    mode: string;
    hwm: number;
    maxrss: number;
  }[];
  for (const c of children) {
    const e = await exitOf(c.pid);
    const what = `${c.mode} child of a ${c.parent} MiB parent: ${JSON.stringify({ ...c, exec: e.execPeakRssBytes, peak: e.peakRssBytes })}`;
    t.diagnostic(what);
    // getrusage semantics stay: the parent's image counts.
    assert.equal(e.peakRssBytes, c.maxrss, what);
    if (c.parent === 200) assert.ok(e.peakRssBytes >= 200 * MiB, what);
    assert.ok(e.execPeakRssBytes !== undefined, what);
    if (c.mode === 'again') {
      // The last image (20 MiB + python) alone: the 50 MiB image before it does not count.
      assert.ok(e.execPeakRssBytes! >= 20 * MiB && e.execPeakRssBytes! < 45 * MiB, what);
    } else {
      // The child's own peak: what it saw as VmHWM (exact per-CPU sums; the kernel's maxrss,
      // like ours, reads the approximate counters), give or take its last allocations.
      assert.ok(Math.abs(e.execPeakRssBytes! - c.hwm) < 2 * MiB, what);
      assert.ok(e.execPeakRssBytes! < 100 * MiB, what);
    }
  }
});

test('a ~1 ms process: CPU and peak RSS equal what wait4 gives its parent', { skip }, async () => {
  // The parent (python) reaps each child with os.wait4 and prints its rusage.
  const py = [
    'import os, json, sys',
    'out = []',
    'for argv in (["/bin/true"], ["/bin/echo", "x"], ["/usr/bin/head", "-c", "4000000", "/dev/zero"], ["/bin/ls", "/usr/bin"]):',
    '    pid = os.fork()',
    '    if pid == 0:',
    '        fd = os.open("/dev/null", os.O_WRONLY); os.dup2(fd, 1)',
    '        os.execv(argv[0], argv)',
    '    _, status, ru = os.wait4(pid, 0)',
    '    out.append({"pid": pid, "utime": ru.ru_utime, "stime": ru.ru_stime, "maxrss": ru.ru_maxrss, "status": status})',
    'print(json.dumps(out))',
  ].join('\n');
  const { done } = run(PYTHON, ['-c', py]);
  const result = await done;
  assert.equal(result.code, 0, result.stderr);
  const children = JSON.parse(result.stdout) as { pid: number; utime: number; stime: number; maxrss: number }[];
  for (const c of children) {
    const e = await exitOf(c.pid);
    const kernelUs = Math.round((c.utime + c.stime) * 1e6);
    const oursUs = (e.cpuUserNs + e.cpuSysNs) / 1e3;
    // getrusage truncates each part to microseconds: at most 2 us apart, and within 2%.
    assert.ok(
      Math.abs(oursUs - kernelUs) <= Math.max(2, kernelUs * 0.02),
      `cpu of ${c.pid}: ${oursUs} us vs ${kernelUs} us`,
    );
    assert.equal(Math.floor(e.cpuUserNs / 1e3), Math.round(c.utime * 1e6), `user cpu of ${c.pid}`);
    assert.equal(e.peakRssBytes, c.maxrss * 1024, `peak RSS of ${c.pid}`);
    assert.ok(e.durationNs! < 2e9);
  }
});

test('stdout and stderr, into pipes and sockets, are captured', { skip }, async () => {
  const { child, done } = run('/bin/sh', [
    '-c',
    'echo to-stdout; echo to-stderr >&2; printf "through-a-pipe\\n" | cat',
  ]);
  const result = await done;
  assert.equal(result.stdout, 'to-stdout\nthrough-a-pipe\n');
  await exitOf(child.pid!);
  const chunks = await until('log chunks', () => {
    const c = of('log.chunk');
    return c.some((x) => x.text.includes('through-a-pipe') && x.pid !== child.pid) ? c : undefined;
  });
  const mine = chunks.filter((c) => c.pid === child.pid);
  assert.deepEqual(
    mine.map((c) => [c.stream, c.text]),
    [
      ['stdout', 'to-stdout\n'],
      ['stderr', 'to-stderr\n'],
    ],
  );
});

test('stdout beyond the per-second bound is dropped and counted', { skip }, async () => {
  // 200 KiB at once: the default bound is 64 KiB per process per second.
  const { child, done } = run(PYTHON, ['-c', 'import sys; sys.stdout.write("y" * 204800); sys.stdout.flush()']);
  await done;
  await exitOf(child.pid!);
  const mine = of('log.chunk', child.pid!);
  const capturedBytes = mine.reduce((n, c) => n + c.text.length, 0);
  const dropped = mine.reduce((n, c) => n + (c.droppedBytes ?? 0), 0);
  assert.ok(capturedBytes > 0 && capturedBytes <= 65536, `captured ${capturedBytes}`);
  assert.equal(capturedBytes + dropped, 204800);
  assert.ok(source.kernelLosses().logBytes >= 204800 - 65536);
});

test('file opens appear, with errors by name', { skip }, async () => {
  const missing = join(tmp, 'does-not-exist');
  const { child, done } = run('/bin/sh', ['-c', `cat /etc/hostname > /dev/null; cat ${missing} 2>/dev/null; true`]);
  await done;
  await exitOf(child.pid!);
  const opens = await until('file opens', () => {
    const o = of('file.open');
    return o.some((x) => x.path === missing) ? o : undefined;
  });
  const ok = opens.find((o) => o.path === '/etc/hostname');
  assert.ok(ok, 'open of /etc/hostname');
  assert.equal(ok.error, undefined);
  const failed = opens.find((o) => o.path === missing)!;
  assert.equal(failed.error, 'ENOENT');
  assert.equal(failed.flags & 3, 0); // O_RDONLY
});

test('the descendant filter leaves other processes out', { skip }, async () => {
  // A second source rooted at a waiting shell: what this process runs directly is outside it.
  const { child: root, done: rootDone } = run('/bin/sh', ['-c', 'read x; /bin/echo inside-marker'], { stdin: 'pipe' });
  const inner = await createBpfSource({ descendantsOf: root.pid!, bootId: BOOT_ID });
  const seen: SourceRecord[] = [];
  await inner.start((b) => seen.push(...b));
  try {
    const outside = run('/bin/echo', ['outside-marker']);
    await outside.done;
    root.stdin!.end('go\n');
    await rootDone;
    await until('inside exec', () => {
      inner.drain();
      return seen.some((r) => r.type === 'process.exec' && r.argv.includes('inside-marker'));
    });
    await exitOf(outside.child.pid!); // the outer source did see it
    inner.drain();
    assert.ok(!seen.some((r) => 'pid' in r && r.pid === outside.child.pid), 'outside process captured');
    assert.ok(!seen.some((r) => 'pid' in r && r.pid === root.pid), 'the root itself is not a descendant');
  } finally {
    await inner.stop();
  }
});

test('OOM kill in a memory-limited cgroup names the victim', { skip }, async (t) => {
  const limit = 64 * 1024 * 1024;
  const cg = makeMemoryCgroup(limit);
  if (typeof cg === 'string') return t.skip(cg);
  try {
    // The shell moves itself into the cgroup, then becomes python, which allocates until killed.
    const grow = 'a = []\nwhile True: a.append(bytearray(1 << 20))';
    const { child, done } = run('/bin/sh', ['-c', `echo $$ > ${cg.procs}; exec ${PYTHON} -c '${grow}'`]);
    const result = await done;
    assert.equal(result.signal, 'SIGKILL');
    const oom = await until('oom.kill', () => of('oom.kill').find((o) => o.victimPid === child.pid));
    assert.equal(oom.constraint, 'memcg');
    assert.equal(oom.memoryLimitBytes, limit);
    assert.ok(oom.memoryUsageBytes! >= limit * 0.9, `usage ${oom.memoryUsageBytes}`);
    assert.ok(oom.victimRssBytes! > limit / 2, `victim rss ${oom.victimRssBytes}`);
    assert.equal(oom.victimComm, 'python3');
    const exit = await exitOf(child.pid!);
    assert.equal(exit.signal, 9);
    assert.equal(oom.victimUpid, exit.upid);
    assert.equal(oom.cgroupId, execsOf((e) => e.pid === child.pid).at(-1)?.cgroupId);
  } finally {
    cg.remove();
  }
});

test('network bytes and I/O wait: live counters, then in the exit record', { skip }, async () => {
  const py = [
    'import mmap, os, socket, sys',
    's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0))',
    'c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
    'for i in range(10): c.sendto(b"x" * 1000, s.getsockname())',
    'for i in range(10): s.recv(2000)',
    'l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()',
    't = socket.create_connection(l.getsockname()); a, _ = l.accept()',
    't.sendall(b"y" * 50000); n = 0',
    'while n < 50000: n += len(a.recv(65536))',
    // O_DIRECT reads reach the disk whatever the page cache holds: real block-I/O waits.
    `path = "${join(tmp, 'direct.bin')}"`,
    'with open(path, "wb") as f: f.write(os.urandom(8 << 20)); f.flush(); os.fsync(f.fileno())',
    'buf = mmap.mmap(-1, 1 << 16); fd = os.open(path, os.O_RDONLY | os.O_DIRECT)',
    'while os.readv(fd, [buf]) > 0: pass',
    'print("ready", flush=True); sys.stdin.read()',
  ].join('\n');
  const { child, done } = run(PYTHON, ['-c', py], { stdin: 'pipe' });
  await new Promise((resolve) => child.stdout!.once('data', resolve));
  const live = source.counters(child.pid!);
  assert.ok(live, 'counters of a live process');
  assert.equal(live.netSendBytes, 60000);
  assert.equal(live.netRecvBytes, 60000);
  child.stdin!.end();
  await done;
  const e = await exitOf(child.pid!);
  assert.equal(e.netSendBytes, 60000);
  assert.equal(e.netRecvBytes, 60000);
  assert.ok(e.ioWaitNs! > 0, `io wait ${e.ioWaitNs}`);
  assert.ok(e.storageReadBytes! >= 8 << 20, `storage read ${e.storageReadBytes}`);
  assert.equal(source.counters(child.pid!), undefined, 'entry removed at exit');
});

test('counters and loss figures are readable', { skip }, async () => {
  const { child, done } = run('/bin/sh', ['-c', 'sleep 0.3']);
  await sleep(100);
  // A live process has an entry once any program counted for it; absent is fine too.
  const c = source.counters(child.pid!);
  if (c) assert.equal(typeof c.ioWaitNs, 'number');
  await done;
  const stats = source.stats();
  assert.equal(stats.droppedKernel, 0);
  assert.equal(stats.droppedUser, 0);
  assert.equal(typeof source.kernelLosses().ringbuf, 'number');
});

/** A memory cgroup (v1 or v2) limited to `limit` bytes, or why none can be made. */
function makeMemoryCgroup(limit: number): { procs: string; remove: () => void } | string {
  const name = `tracer-test-${process.pid}-${Date.now()}`;
  let dir: string;
  let limitFile: string;
  if (existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes')) {
    dir = join('/sys/fs/cgroup/memory', name);
    limitFile = 'memory.limit_in_bytes';
  } else if (existsSync('/sys/fs/cgroup/cgroup.subtree_control')) {
    if (!readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').includes('memory')) {
      return 'cgroup v2 without the memory controller enabled at the root';
    }
    dir = join('/sys/fs/cgroup', name);
    limitFile = 'memory.max';
  } else {
    return 'no memory cgroup hierarchy';
  }
  try {
    mkdirSync(dir);
    writeFileSync(join(dir, limitFile), String(limit));
  } catch (err) {
    return `cannot create a memory cgroup: ${(err as Error).message}`;
  }
  return {
    procs: join(dir, 'cgroup.procs'),
    remove: () => {
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
        }
      }
    },
  };
}

test('every program loads: none is refused except for a kernel limitation', { skip }, () => {
  // The verifier's limits move between kernels (6.18.44 refused a 592-byte combined stack):
  // a refused program silently loses its part of the capture, so this names it.
  const refused = source.unavailable.filter((p) => !isKernelLimitation(p));
  assert.deepEqual(refused, []);
  for (const p of ['process', 'oom', 'iowait', 'net', 'files', 'output', 'syscalls', 'cgroups'])
    assert.ok(source.loaded.includes(p), `${p} loaded: ${source.loaded}`);
});

test('stop with releaseInBackground: a helper holds the tracepoint links, and they go when it exits', {
  skip,
}, async () => {
  const links = () =>
    (JSON.parse(execFileSync(BPFTOOL, ['link', 'list', '-j'], { encoding: 'utf8' })) as unknown[]).length;
  const before = links();
  const inner = await createBpfSource({ descendantsOf: process.pid, bootId: BOOT_ID });
  await inner.start(() => {});
  const attached = links() - before;
  assert.ok(attached > 50, `${attached} links`);
  await inner.stop({ releaseInBackground: true });
  // Our own fds are closed; the helper (a child of ours until we exit) holds the perf links.
  const helper = execFileSync('pgrep', ['-P', String(process.pid), '-x', 'sleep'], { encoding: 'utf8' }).trim();
  assert.ok(helper, 'a holder was started');
  const held = readdirSync(`/proc/${helper}/fd`).filter(
    (fd) => readlinkSync(`/proc/${helper}/fd/${fd}`) === 'anon_inode:bpf_link',
  );
  assert.ok(held.length > 50, `${held.length} links held`);
  const left = () => links() - before;
  for (let i = 0; i < 300 && left() > 0; i++) await sleep(100);
  assert.equal(left(), 0, 'every link released once the holder is gone');
});

test('the programs load under a sampling profiler signalling every millisecond', { skip }, async () => {
  // The verifier gives up with EAGAIN on a pending signal; the addon holds signals while loading.
  const source = new URL('../src/adapters/bpf-source.ts', import.meta.url).href;
  const script = `import { createBpfSource } from ${JSON.stringify(source)};
    const s = await createBpfSource({ bootId: ${JSON.stringify(BOOT_ID)}, descendantsOf: process.pid });
    console.log(s.loaded.join(','));
    await s.stop();`;
  const profiled = run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${tmp}`, '--input-type=module', '-e', script]);
  const r = await profiled.done;
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\bprocess\b/);
});
