import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTable } from './fixture.test-support.ts';
import { groupRun, labelProcesses } from './grouping.ts';
import { ProcessTable } from './process-table.ts';

const up = (pid: number) => `5f1c9a3e-${pid}-${pid * 1_000_000}`;

test('builds the process tree with parent links, last exec, exits and the live set', () => {
  const t = fixtureTable('bpf-pipeline-failures.jsonl');
  assert.equal(t.nodes.size, 10);
  assert.equal(t.meta?.rootPid, 1000);
  assert.equal(t.meta?.mode, 'bpf');
  const root = t.get(up(1000))!;
  assert.deepEqual(
    t.childrenOf(root).map((n) => n.pid),
    [1001, 1002, 1003, 1004, 1007, 1006],
  );
  const sort = t.get(up(1002))!;
  assert.equal(sort.execCount, 2, 'bash -c exec, then samtools');
  assert.deepEqual(sort.argv?.slice(0, 2), ['samtools', 'sort']);
  assert.equal(sort.oom?.constraint, 'memcg');
  assert.equal(sort.peakRssBytes, 505 << 20);
  assert.deepEqual([...t.live.keys()], [1006]);
  assert.deepEqual(
    t.get(up(1003))!.stderrTail.slice(-1),
    ['ValueError: bad input'],
    'the last partial line is flushed at exit',
  );
  assert.equal(t.endTs(), t.stats!.ts);
});

test('labels fork-only processes with their parent program, and groups run > step > tool', () => {
  const t = fixtureTable('bpf-pipeline-failures.jsonl');
  const labels = labelProcesses(t);
  assert.equal(labels.get(up(1007)), 'bash pipeline.sh', 'a subshell runs its parent program');
  const run = groupRun(t);
  assert.equal(run.name, 'demo');
  assert.deepEqual(
    run.steps.map((s) => [s.index, s.label, s.processes.length]),
    [
      [1, 'bwa mem', 1],
      [2, 'samtools sort', 1],
      [3, 'python3 check.py', 1],
      [4, 'sleep', 2],
      [5, 'yes', 3],
      [6, 'sleep', 1],
    ],
  );
  assert.equal(run.agg.processes, 10);
  assert.equal(run.agg.cpuNs, 2_631_000_000);
  assert.equal(run.agg.peakRssBytes, 505 << 20);
  assert.equal(run.agg.failed, 5);
  assert.equal(run.steps[4]!.agg.failed, 0, 'SIGPIPE in a pipeline is not a failure');
  assert.deepEqual(run.steps[5]!.agg.status, { kind: 'running' });
});

test('a wrapper root around one command is seen through to that command', () => {
  const ev = (type: string, pid: number, ppid: number, argv?: string[]) =>
    ({
      type,
      ts: pid,
      pid,
      ppid,
      upid: up(pid),
      uid: 0,
      exe: argv?.[0] ?? '',
      argv,
      argvTruncated: false,
      cwd: '/',
    }) as never;
  const t = ProcessTable.from([
    { type: 'trace.start', ts: 0, command: ['time', 'bash', 'x.sh'], rootPid: 1, mode: 'bpf' } as never,
    ev('process.exec', 1, 0, ['time', 'bash', 'x.sh']),
    ev('process.fork', 2, 1),
    ev('process.exec', 2, 1, ['bash', 'x.sh']),
    ev('process.exec', 3, 2, ['gzip', 'a']),
    ev('process.exec', 4, 2, ['gzip', 'b']),
  ]);
  const run = groupRun(t);
  assert.equal(run.name, 'bash x.sh');
  assert.deepEqual(
    run.own.map((n) => n.pid),
    [1, 2],
  );
  assert.deepEqual(
    run.steps.map((s) => s.root.pid),
    [3, 4],
  );
});
