// Faults injected into real processes under the agent (`./tracer run`): each must give exactly
// the expected insight, on the right process, within 5 s of the fault being observable, and a
// clean run none. Skips, saying why, where `tracer run` or a fault's prerequisite (root, a
// memory cgroup, tmpfs, a C compiler) is missing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Insight } from '@tracer/events';
import type { InsightsOptions } from '../src/core/types.ts';
import {
  describe,
  pidOf,
  replay,
  type TracedRun,
  traceRun,
  tracerRunUnavailable,
  waitForProcess,
} from './fault-harness.ts';

const unavailable = tracerRunUnavailable();
const WITHIN_NS = 5e9;
const S = 1e9;
const work = mkdtempSync(join(tmpdir(), 'tracer-faults-'));
const isRoot = process.getuid?.() === 0;

function only(insights: Insight[], kind: string, pid: number | undefined): Insight {
  assert.ok(pid !== undefined, 'the faulty process is in the trace');
  assert.equal(insights.length, 1, `exactly one insight expected, got ${describe(insights)}`);
  const i = insights[0]!;
  assert.equal(i.kind, kind, describe(insights));
  assert.equal(i.pid, pid, describe(insights));
  return i;
}

function seenWithin(firstSeen: Map<string, number>, i: Insight, observableTs: number) {
  const seen = firstSeen.get(i.id)!;
  assert.ok(
    seen - observableTs <= WITHIN_NS,
    `insight appeared ${((seen - observableTs) / S).toFixed(1)} s after the fault was observable`,
  );
}

function needsBpf(t: { skip: (m: string) => void }, run: TracedRun): boolean {
  if (run.mode === 'bpf') return false;
  t.skip(`the agent fell back to /proc sampling (${run.mode}): no output capture or kernel counters`);
  return true;
}

/** /proc sampling misses processes shorter than its poll interval: that is its limit, not ours. */
function missedByProcSampling(t: { skip: (m: string) => void }, run: TracedRun, pid: number | undefined): boolean {
  if (pid !== undefined || run.mode !== 'proc') return false;
  t.skip('/proc sampling missed the short-lived faulty process (the eBPF agent sees every exec)');
  return true;
}

const opt = { skip: unavailable ? `tracer run is not available yet: ${unavailable}` : false } as const;

test('OOM in a memory-limited cgroup: oom_kill on the exact victim, with the limit', opt, async (t) => {
  const memCg = readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .find((l) => /:memory:/.test(l))
    ?.split(':')[2];
  const v1 = memCg !== undefined && existsSync(`/sys/fs/cgroup/memory${memCg}`);
  const base = v1 ? `/sys/fs/cgroup/memory${memCg}` : '/sys/fs/cgroup';
  if (!isRoot || !existsSync(base)) return t.skip('needs root and a memory cgroup');
  const cg = join(base, `tracer-oom-${process.pid}`);
  mkdirSync(cg, { recursive: true });
  try {
    const limit = 64 * 1024 * 1024;
    writeFileSync(join(cg, v1 ? 'memory.limit_in_bytes' : 'memory.max'), String(limit));
    if (!v1) writeFileSync(join(cg, 'memory.swap.max'), '0');
    const run = await traceRun(['sh', '-c', `echo $$ > ${cg}/cgroup.procs && tail /dev/zero`]);
    const victim = pidOf(run.events, (a) => a[0] === 'tail');
    const { insights, firstSeenTs } = replay(run.events);
    const i = only(insights, 'oom_kill', victim);
    assert.equal(i.category, 'oom');
    assert.equal(i.evidence.memoryLimitBytes, limit);
    const oom = run.events.find((e) => e.type === 'oom.kill')!;
    seenWithin(firstSeenTs, i, oom.ts);
  } finally {
    try {
      rmdirSync(cg);
    } catch {
      // the kernel frees it once its last process is reaped
    }
  }
});

test('a tool stalled reading a FIFO nobody writes: no_progress on the reader', opt, async (t) => {
  const fifo = join(work, 'stall.fifo');
  if (spawnSync('mkfifo', [fifo]).status !== 0) return t.skip('mkfifo failed');
  const options: InsightsOptions = { config: { defaults: { noProgress: { afterNs: 3 * S } } } };
  // 6 s after cat starts, a writer opens and closes the FIFO: cat sees EOF and exits 0 (no failure).
  const run = await traceRun(['sh', '-c', `cat ${fifo} > /dev/null`], {
    during: async () => {
      await waitForProcess(`cat ${fifo}`);
      await new Promise((r) => setTimeout(r, 6000));
      writeFileSync(fifo, '');
    },
  });
  const reader = pidOf(run.events, (a) => a[0] === 'cat');
  const { insights, firstSeenTs } = replay(run.events, options);
  const i = only(insights, 'no_progress', reader);
  const catStart = run.events.find((e) => e.type === 'process.exec' && e.pid === reader)!.ts;
  seenWithin(firstSeenTs, i, catStart + 3 * S);
});

test('heavy I/O wait (an fsync storm): io_wait on the writer', opt, async (t) => {
  const options: InsightsOptions = { config: { defaults: { ioWait: { minNs: 0.5 * S, minShare: 0.2 } } } };
  const file = join(work, 'fsync.dat');
  const run = await traceRun(['dd', 'if=/dev/zero', `of=${file}`, 'bs=4k', 'count=5000', 'oflag=dsync']);
  if (needsBpf(t, run)) return;
  const writer = pidOf(run.events, (a) => a[0] === 'dd');
  const { insights } = replay(run.events, options);
  const exit = run.events.find((e) => e.type === 'process.exit' && e.pid === writer);
  if (insights.length === 0 && exit?.type === 'process.exit') {
    const share = (exit.ioWaitNs ?? 0) / Math.max(1, exit.durationNs ?? 1);
    return t.skip(
      `this disk absorbed the fsync storm: I/O wait ${((exit.ioWaitNs ?? 0) / 1e6).toFixed(0)} ms, ${(share * 100).toFixed(0)}% of ${((exit.durationNs ?? 0) / 1e6).toFixed(0)} ms`,
    );
  }
  const i = only(insights, 'io_wait', writer);
  assert.ok((i.evidence.share as number) >= 0.2);
});

test('network wait on a loopback server that accepts and never answers: network_wait', opt, async (t) => {
  const sockets: Socket[] = [];
  const server = createServer((s) => {
    sockets.push(s);
    s.on('error', () => {});
    // Never answers; hangs up after 8 s so the client ends without an error.
    setTimeout(() => s.end(), 8000);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const options: InsightsOptions = { config: { defaults: { networkWait: { minNs: 3 * S, minShare: 0.5 } } } };
  try {
    const run = await traceRun([
      'bash',
      '-c',
      `exec 3<>/dev/tcp/127.0.0.1/${port}; printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3; read -r line <&3; exit 0`,
    ]);
    if (needsBpf(t, run)) return;
    const client = pidOf(run.events, (a) => a[0] === 'bash');
    const { insights, firstSeenTs } = replay(run.events, options);
    const i = only(insights, 'network_wait', client);
    const start = run.events.find((e) => e.type === 'process.exec' && e.pid === client)!.ts;
    seenWithin(firstSeenTs, i, start + 3 * S);
  } finally {
    for (const s of sockets) s.destroy();
    server.close();
  }
});

test('ENOSPC on a small tmpfs: disk_full on the writer, with its error line', opt, async (t) => {
  const mnt = join(work, 'small');
  mkdirSync(mnt, { recursive: true });
  if (!isRoot || spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]).status !== 0)
    return t.skip('needs root to mount a tmpfs');
  try {
    // cp writes through its own descriptor: with dd of=FILE or a shell redirect, the data
    // itself goes to fd 1 and is captured as the process's stdout.
    const src = join(work, 'two-mib.bin');
    writeFileSync(src, Buffer.alloc(2 * 1024 * 1024));
    const run = await traceRun(['sh', '-c', `cp ${src} ${mnt}/copy.bin`]);
    if (needsBpf(t, run)) return;
    const writer = pidOf(run.events, (a) => a[0] === 'cp');
    const { insights, firstSeenTs } = replay(run.events);
    const i = only(insights, 'disk_full', writer);
    assert.equal(i.category, 'disk_full');
    assert.ok(i.errorLines.length >= 1, describe(insights));
    const exit = run.events.find((e) => e.type === 'process.exit' && e.pid === writer)!;
    seenWithin(firstSeenTs, i, exit.ts);
  } finally {
    spawnSync('umount', [mnt]);
  }
});

test('a segfault: signal insight, category segfault, on the crashing process', opt, async (t) => {
  const src = join(work, 'segv.c');
  const bin = join(work, 'segv');
  writeFileSync(src, 'int main(void){ volatile int *p = (int *)0; return *p; }\n');
  if (spawnSync('cc', ['-O0', '-o', bin, src]).status !== 0) return t.skip('no C compiler');
  const run = await traceRun(['sh', '-c', `${bin}; exit $?`]);
  const crasher = pidOf(run.events, (a) => a[0] === bin);
  if (missedByProcSampling(t, run, crasher)) return;
  const { insights, firstSeenTs } = replay(run.events);
  const i = only(insights, 'signal', crasher);
  assert.equal(i.category, 'segfault');
  const exit = run.events.find((e) => e.type === 'process.exit' && e.pid === crasher)!;
  seenWithin(firstSeenTs, i, exit.ts);
});

test('a missing input file: nonzero_exit, missing_input, naming the path and the log line', opt, async (t) => {
  const path = join(work, 'no-such-sample.fq');
  const run = await traceRun(['sh', '-c', `cat ${path} | wc -l`]);
  const cat = pidOf(run.events, (a) => a[0] === 'cat');
  const { insights, firstSeenTs } = replay(run.events);
  // wc succeeds and sh (no pipefail) exits 0: the failure was not passed on, yet cat's is the
  // only failure: it must still not be reported as a run failure.
  assert.deepEqual(insights, [], describe(insights));
  const run2 = await traceRun(['sh', '-c', `cat ${path} > /dev/null`]);
  const cat2 = pidOf(run2.events, (a) => a[0] === 'cat');
  if (missedByProcSampling(t, run2, cat2)) return;
  const r2 = replay(run2.events);
  const i = only(r2.insights, 'nonzero_exit', cat2);
  assert.equal(i.category, 'missing_input');
  assert.ok(JSON.stringify(i).includes(path));
  if (run2.mode === 'bpf') assert.deepEqual(i.errorLines, [1]);
  const exit = run2.events.find((e) => e.type === 'process.exit' && e.pid === cat2)!;
  seenWithin(r2.firstSeenTs, i, exit.ts);
  void cat;
  void firstSeenTs;
});

test('a step 5x slower than its recorded history: slow_step, saying by how much', opt, async () => {
  const script = join(work, 'align.sh');
  writeFileSync(script, '#!/bin/sh\nsleep 2.5\n');
  chmodSync(script, 0o755);
  const history = { 'align.sh': [0.5, 0.45, 0.55, 0.5, 0.52, 0.48, 0.5].map((s) => s * S) };
  const run = await traceRun(['sh', script]);
  const step = pidOf(run.events, (a) => a[1] === script);
  const { insights, firstSeenTs } = replay(run.events, { history });
  const i = only(insights, 'slow_step', step);
  assert.ok((i.evidence.ratio as number) >= 4.5, describe(insights));
  const start = run.events.find((e) => e.type === 'process.exec' && e.pid === step)!.ts;
  seenWithin(firstSeenTs, i, start + (i.evidence.thresholdNs as number));
});

test('a clean run gives no insight at all', opt, async () => {
  const dir = join(work, 'clean');
  mkdirSync(dir, { recursive: true });
  const run = await traceRun([
    'bash',
    '-c',
    `set -e; cd ${dir}; seq 1 20000 > n.txt; sort -rn n.txt | head -3 > top.txt; gzip -kf n.txt; gzip -t n.txt.gz; grep -q 99999 n.txt || true; ls -la > /dev/null; wc -l n.txt`,
  ]);
  assert.equal(run.status, 0, run.stderr);
  const { insights } = replay(run.events);
  assert.deepEqual(insights, [], describe(insights));
});

function installed(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

test('a clean Snakemake workflow gives no insight; a failing rule gives one, on the tool', opt, async (t) => {
  if (!installed('snakemake')) return t.skip('snakemake is not installed');
  const dir = join(work, 'smk');
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(
    join(dir, 'Snakefile'),
    [
      'wildcard_constraints:',
      '    s="[a-z]+"',
      'rule all:',
      '    input: expand("out/{s}.sorted.txt", s=["a", "b", "c"])',
      'rule make:',
      '    output: "out/{s}.txt"',
      '    shell: "seq 1 2000 | awk \'{{print $1 * 7 % 1000}}\' > {output}"',
      'rule sort:',
      '    input: "out/{s}.txt"',
      '    output: "out/{s}.sorted.txt"',
      '    shell: "sort -n {input} | uniq -c > {output}"',
      'rule fail:',
      '    output: "bad/x.txt"',
      '    shell: "cat data/missing.fastq | head -4 > {output}; test -s {output}"',
      '',
    ].join('\n'),
  );
  const clean = await traceRun(['sh', '-c', `cd ${dir} && snakemake -c2 --quiet`]);
  assert.equal(clean.status, 0, clean.stderr.slice(-2000));
  const ok = replay(clean.events);
  assert.deepEqual(ok.insights, [], describe(ok.insights));

  const failing = await traceRun(['sh', '-c', `cd ${dir} && snakemake bad/x.txt -c1 --quiet`]);
  const cat = pidOf(failing.events, (a) => a[0] === 'cat');
  if (missedByProcSampling(t, failing, cat)) return;
  const bad = replay(failing.events, {}, 250e6, true);
  const i = only(bad.insights, 'nonzero_exit', cat);
  assert.equal(i.category, 'missing_input');
  // With the attribution core alongside, the insight names its run, step and task.
  assert.ok(i.runId && i.taskId, describe(bad.insights));
  assert.match(i.stepId ?? '', /fail$/);
  assert.deepEqual(replay(clean.events, {}, 250e6, true).insights, []);
  if (failing.mode === 'bpf')
    assert.ok(
      i.errorEntries?.some((e) => /Error in rule fail/.test(e.text)),
      describe(bad.insights),
    );
});

test('a clean cwltool workflow gives no insight', opt, async (t) => {
  if (!installed('cwltool')) return t.skip('cwltool is not installed');
  const dir = join(work, 'cwl');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'wf.cwl'),
    `cwlVersion: v1.2
class: Workflow
inputs:
  msg: string
outputs:
  out:
    type: File
    outputSource: count/out
steps:
  echo:
    run:
      class: CommandLineTool
      baseCommand: echo
      inputs:
        m: { type: string, inputBinding: { position: 1 } }
      outputs:
        o: { type: stdout }
      stdout: echo.txt
    in: { m: msg }
    out: [o]
  count:
    run:
      class: CommandLineTool
      baseCommand: [wc, -c]
      inputs:
        f: { type: File, inputBinding: { position: 1 } }
      outputs:
        out: { type: stdout }
      stdout: count.txt
    in: { f: echo/o }
    out: [out]
`,
  );
  const run = await traceRun(['sh', '-c', `cd ${dir} && cwltool --no-container --quiet wf.cwl --msg hello`]);
  assert.equal(run.status, 0, run.stderr.slice(-2000));
  const { insights } = replay(run.events);
  assert.deepEqual(insights, [], describe(insights));
});

test('a command killed by timeout(1): time_limit on the command', opt, async (t) => {
  const run = await traceRun(['timeout', '2', 'sleep', '30']);
  const sleeper = pidOf(run.events, (a) => a[0] === 'sleep');
  if (missedByProcSampling(t, run, sleeper)) return;
  const { insights, firstSeenTs } = replay(run.events);
  const i = only(insights, 'time_limit', sleeper);
  assert.equal(i.category, 'time_limit');
  const exit = run.events.find((e) => e.type === 'process.exit' && e.pid === sleeper)!;
  seenWithin(firstSeenTs, i, exit.ts);
});

test('more busy processes than CPUs: cpu_oversubscription while they ran', opt, async (t) => {
  const cpus = (await import('node:os')).availableParallelism();
  const loops = cpus * 3;
  const options: InsightsOptions = { config: { defaults: { cpuOversubscription: { minNs: 3 * S } } } };
  // PSI avg10 and load1 are moving averages: 12 s of overload lets them cross their
  // thresholds for the 3 s the detector wants even when the machine starts idle.
  const busy = 'end=$((SECONDS+12)); while [ $SECONDS -lt $end ]; do :; done';
  const run = await traceRun(['bash', '-c', `for i in $(seq ${loops}); do bash -c '${busy}' & done; wait`]);
  const samples = run.events.filter((e) => e.type === 'host.sample');
  if (samples.length === 0) return t.skip('the agent sent no host samples');
  const { insights } = replay(run.events, options);
  assert.equal(insights.length, 1, describe(insights));
  const i = insights[0]!;
  assert.equal(i.kind, 'cpu_oversubscription');
  const loopPids = new Set<number>();
  for (const e of run.events)
    if (e.type === 'process.exec' && e.argv[0] === 'bash' && e.argv[2] === busy) loopPids.add(e.pid);
  assert.ok(i.pid !== undefined && loopPids.has(i.pid), describe(insights));
  assert.ok((i.evidence.affectedProcesses as number) >= loops, describe(insights));
});
