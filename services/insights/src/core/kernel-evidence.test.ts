// The insights consume the kernel's failed-call records (syscall.error) as the BPF side
// specifies them: flags tell an input from an output, mount names the filesystem, counts of
// periodic flushes add up, the same failed open seen twice counts once.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../test/trace-builder.ts';
import { analyzeTrace, analyzeTraceState, explainInsight } from './analyze-trace.ts';
import { classifyEvidence } from './classify.ts';
import type { EvidencePacket } from './evidence.ts';

const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_TRUNC = 0o1000;

function failing(pid: number, argv: string[], code: number, calls: (t: ReturnType<typeof traceBuilder>) => void) {
  const t = traceBuilder();
  t.at(0).exec(pid, argv);
  t.at(0.5);
  calls(t);
  t.at(1).exit(pid, { code });
  const insights = analyzeTrace(t.events);
  assert.equal(insights.length, 1, JSON.stringify(insights, null, 1));
  return insights[0]!;
}

test('missing_input: a read-only open of a missing path, the newest one named', () => {
  const i = failing(501, ['./count_reads', 'a.fq', 'b.fq'], 1, (t) =>
    t
      .syscallError(501, 'openat', 'ENOENT', { path: '/data/a.fq', flags: O_RDONLY, firstS: 0.2, lastS: 0.2 })
      .syscallError(501, 'openat', 'ENOENT', { path: '/data/b.fq', flags: O_RDONLY, firstS: 0.4, lastS: 0.4 }),
  );
  assert.equal(i.category, 'missing_input');
  assert.match(i.summary, /failed call openat ENOENT \/data\/b\.fq/);
});

test('ENOENT on an O_CREAT open: the output directory does not exist (config_error)', () => {
  const i = failing(502, ['./writer', '-o', '/results/run7/out.bam'], 1, (t) =>
    t.syscallError(502, 'openat', 'ENOENT', { path: '/results/run7/out.bam', flags: O_WRONLY | O_CREAT | O_TRUNC }),
  );
  assert.equal(i.category, 'config_error');
  assert.match(i.summary, /output directory \/results\/run7 does not exist/);
  assert.match(i.summary, /failed call openat ENOENT \/results\/run7\/out\.bam/);
});

test('ENOENT on execve in a shell that exits 127: command not found, naming the program', () => {
  const i = failing(503, ['sh', '-c', 'samtoolz view x.bam'], 127, (t) =>
    t
      .syscallError(503, 'execve', 'ENOENT', { path: '/usr/local/bin/samtoolz' })
      .syscallError(503, 'execve', 'ENOENT', { path: '/usr/bin/samtoolz' })
      .log(503, 'sh: 1: samtoolz: not found\n'),
  );
  assert.equal(i.category, 'missing_dependency');
  assert.match(i.summary, /failed call execve ENOENT \/usr\/(?:local\/)?bin\/samtoolz: command not found \(samtoolz\)/);
});

test('disk_full names the filesystem from mount; EDQUOT too', () => {
  const i = failing(504, ['dd', 'of=/mnt/small/x'], 1, (t) =>
    t.syscallError(504, 'write', 'ENOSPC', { path: '/mnt/small/x', mount: '/mnt/small', count: 3 }),
  );
  assert.equal(i.category, 'disk_full');
  assert.match(i.summary, /failed call write ENOSPC \/mnt\/small\/x \(x3\): filesystem \/mnt\/small is full/);
  const q = failing(505, ['cp', 'a', '/home/u/b'], 1, (t) =>
    t.syscallError(505, 'write', 'EDQUOT', { path: '/home/u/b', mount: '/home' }),
  );
  assert.equal(q.category, 'disk_full');
  assert.match(q.summary, /filesystem \/home is over quota/);
});

test('permission: EROFS with its mount, EACCES and EPERM with the path', () => {
  const r = failing(506, ['./writer'], 1, (t) =>
    t.syscallError(506, 'openat', 'EROFS', { path: '/ro/out.txt', mount: '/ro', flags: O_WRONLY | O_CREAT }),
  );
  assert.equal(r.category, 'permission');
  assert.match(r.summary, /failed call openat EROFS \/ro\/out\.txt: read-only filesystem on \/ro/);
  const a = failing(507, ['./reader'], 1, (t) =>
    t.syscallError(507, 'openat', 'EACCES', { path: '/secure/ref.fa', flags: O_RDONLY }),
  );
  assert.equal(a.category, 'permission');
  assert.match(a.summary, /failed call openat EACCES \/secure\/ref\.fa/);
  const p = failing(508, ['./chowner'], 1, (t) => t.syscallError(508, 'unlink', 'EPERM', { path: '/data/locked' }));
  assert.equal(p.category, 'permission');
});

test('network: refused, timed out, unreachable, reset, with the address', () => {
  for (const errno of ['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET']) {
    const i = failing(509, ['psql', '-h', 'db'], 2, (t) =>
      t.syscallError(509, 'connect', errno, { addr: '127.0.0.1:5432' }),
    );
    assert.equal(i.category, 'network', errno);
    assert.match(i.summary, new RegExp(`failed call connect ${errno} 127\\.0\\.0\\.1:5432`));
  }
});

test('oom from ENOMEM on memory calls, weighted by count; EAGAIN on clone; EMFILE', () => {
  const base = (calls: EvidencePacket['syscallErrors']): EvidencePacket => ({
    version: 1,
    process: { pid: 1, tool: 't', exe: '/t', argv: ['t'], cwd: '/', startTs: 0 },
    exit: { code: 1, signal: null, coreDumped: false, meaning: 'exit 1' },
    chain: [{ pid: 1, tool: 't', exitCode: 1, signal: null }],
    errorLines: [],
    logTail: [],
    resources: { peakRssBytes: 0, cpuNs: 0, readBytes: 0, writeBytes: 0 },
    syscallErrors: calls,
    failedOpens: [],
  });
  const one = classifyEvidence(base([{ pid: 1, syscall: 'mmap', errno: 'ENOMEM', count: 1 }]));
  const many = classifyEvidence(base([{ pid: 1, syscall: 'mmap', errno: 'ENOMEM', count: 500 }]));
  assert.equal(many.category, 'oom');
  assert.ok(many.confidence > one.confidence);
  const other = classifyEvidence(base([{ pid: 1, syscall: 'ioctl', errno: 'ENOMEM', count: 1 }]));
  assert.equal(other.category, 'unknown');
  const nproc = classifyEvidence(base([{ pid: 1, syscall: 'clone', errno: 'EAGAIN', count: 4 }]));
  assert.equal(nproc.category, 'config_error');
  assert.match(nproc.votes[0]!.evidence, /process limit/);
  const files = classifyEvidence(base([{ pid: 1, syscall: 'openat', errno: 'EMFILE', count: 9, path: '/d/x' }]));
  assert.equal(files.category, 'config_error');
  assert.match(files.votes[0]!.evidence, /open-file limit/);
});

test('a failed open seen as file.open and as syscall.error counts once', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(510, ['./reader', 'in.fq'])
    .at(0.1)
    .fileOpen(510, '/data/in.fq', 'ENOENT')
    .syscallError(510, 'openat', 'ENOENT', { path: '/data/in.fq', flags: O_RDONLY })
    .at(0.2)
    .exit(510, { code: 1 });
  const { state, insights } = analyzeTraceState(t.events);
  assert.equal(insights[0]?.category, 'missing_input');
  const { packet } = explainInsight(state, insights[0]!)!;
  assert.equal(packet.syscallErrors.length, 1);
  assert.equal(packet.failedOpens.length, 0);
});

test('periodic flushes of the same failure add up (count between firstTs and lastTs)', () => {
  const i = failing(511, ['./poller'], 1, (t) =>
    t
      .syscallError(511, 'connect', 'ECONNREFUSED', { addr: '10.0.0.9:6379', count: 100, firstS: 0.1, lastS: 0.2 })
      .syscallError(511, 'connect', 'ECONNREFUSED', { addr: '10.0.0.9:6379', count: 50, firstS: 0.3, lastS: 0.4 }),
  );
  assert.match(i.summary, /ECONNREFUSED 10\.0\.0\.9:6379 \(x150\)/);
});

test('a log-led cause still shows the decisive failed call next to the tool', () => {
  const i = failing(512, ['bwa', 'mem', 'ref.fa', 'r.fq'], 1, (t) =>
    t
      .syscallError(512, 'openat', 'ENOENT', { path: '/data/r.fq', flags: O_RDONLY })
      .log(512, '[E::main_mem] fail to open file `/data/r.fq`.\n'),
  );
  assert.equal(i.category, 'missing_input');
  assert.match(i.summary, /failed call openat ENOENT \/data\/r\.fq/);
});

test('io_wait: "blocked in fsync N% of the time" from the sync class when it dominates', () => {
  const t = traceBuilder();
  t.at(0).exec(520, ['./fsync_storm']);
  for (let s = 1; s <= 20; s++) t.at(s).sample(520, { cpuS: 0.05 * s, syncS: 0.8 * s, writeBytes: 1e6 * s });
  t.at(20).exit(520, { code: 0, syncS: 16 });
  const insights = analyzeTrace(t.events);
  const io = insights.filter((i) => i.kind === 'io_wait');
  assert.equal(io.length, 1, JSON.stringify(insights, null, 1));
  assert.match(io[0]!.summary, /blocked in fsync 80% of the time/);
  assert.equal(io[0]!.pid, 520);
});

test('io_wait: fsync that is not the dominant class is not reported as such', () => {
  const t = traceBuilder();
  t.at(0).exec(521, ['./net_and_sync']);
  for (let s = 1; s <= 20; s++) t.at(s).sample(521, { cpuS: 0.05 * s, syncS: 0.1 * s });
  t.at(20).exit(521, { code: 0, syncS: 2 });
  assert.equal(analyzeTrace(t.events).filter((i) => i.kind === 'io_wait').length, 0);
});

test('memory_pressure per cgroup from the process samples, one insight for the cgroup', () => {
  const t = traceBuilder();
  t.at(0).exec(530, ['./job'], { cgroupId: '4242' }).exec(531, ['./job-worker'], { ppid: 530 });
  for (let s = 1; s <= 15; s++) {
    const cg = { limit: 512 * 1024 ** 2, usage: 500 * 1024 ** 2, memSome10: 40 };
    t.at(s).sample(530, { cpuS: s, cgroup: cg }).sample(531, { cpuS: s, cgroup: cg });
  }
  t.at(16).sample(530, { cpuS: 16, cgroup: { memSome10: 0 } });
  t.at(17).exit(531).exit(530);
  const mp = analyzeTrace(t.events).filter((i) => i.kind === 'memory_pressure');
  assert.equal(mp.length, 1, JSON.stringify(mp, null, 1));
  assert.match(
    mp[0]!.summary,
    /Memory pressure in the cgroup of .*PSI memory some 40%, 500 MiB of its 512 MiB limit in use/,
  );
  assert.equal(mp[0]!.state, 'resolved');
  assert.equal(mp[0]!.pid, 530);
});

test("the launcher's PATH search for the shell itself is not the missing command", () => {
  const i = failing(540, ['sh', '-c', 'no_such_tool --version'], 127, (t) =>
    t.syscallError(540, 'execve', 'ENOENT', { path: '/root/go/bin/sh' }).log(540, 'sh: 1: no_such_tool: not found\n'),
  );
  assert.equal(i.category, 'missing_dependency');
  assert.doesNotMatch(i.summary, /execve/);
});
