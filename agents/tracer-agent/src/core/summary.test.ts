import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixtureTable } from './fixture.test-support.ts';
import { ProcessTable } from './process-table.ts';
import { renderSummary } from './summary.ts';

test('the summary puts failures first, OOM kills before signals before exit codes, with stderr', () => {
  const text = renderSummary(fixtureTable('bpf-pipeline-failures.jsonl'), { tracePath: '/t/x.jsonl' });
  const lines = text.split('\n');
  assert.match(lines[0]!, /^tracer: demo -- exit 3 after 5\.20s, 10 processes, 6 steps$/);
  assert.match(text, /trace: \/t\/x\.jsonl, 37 events, dropped 0 in kernel and 0 in user space/);
  const failures = lines.indexOf('Failures (5)');
  assert.ok(failures > 0);
  assert.match(
    lines[failures + 1]!,
    /^ {2}OOM kill +samtools sort +pid 1002 +step 2 +killed by the kernel \(cgroup memory limit\), limit 512 MiB, peak RSS 505 MiB$/,
  );
  assert.match(lines[failures + 2]!, /^ {2}SIGTERM +sleep +pid 1005/);
  assert.match(lines[failures + 3]!, /^ {2}exit 3 +python3 check\.py +pid 1003 +step 3/);
  assert.equal(lines[failures + 7], '      | ValueError: bad input');
  assert.ok(text.indexOf('Failures') < text.indexOf('run demo'), 'failures before the table');
  // Under the engine-aware tree, the simple grouping's step count would contradict it.
  const header = renderSummary(fixtureTable('bpf-pipeline-failures.jsonl'), { headerOnly: true }).split('\n')[0];
  assert.equal(header, 'tracer: demo -- exit 3 after 5.20s, 10 processes');
});

test('the table is aligned: run, root, steps, and tools of multi-tool steps', () => {
  const text = renderSummary(fixtureTable('bpf-pipeline-failures.jsonl'));
  const lines = text.split('\n');
  const header = lines.findIndex((l) => /procs +wall +cpu +peak RSS +read +write +I\/O wait +status/.test(l));
  assert.ok(header > 0);
  const table = lines.slice(header, header + 12);
  assert.match(table[1]!, /^run demo +10 +5\.20s +2\.63s +505 MiB +1\.15 GiB +200 MiB +50ms +5 failed$/);
  assert.match(table[2]!, /^ {2}\(root\) bash pipeline\.sh +1 /);
  assert.match(table[3]!, /^ {2}step 1 bwa mem +1 +1\.99s +1\.90s +300 MiB +1\.00 GiB +200 MiB +50ms +ok$/);
  assert.match(table[4]!, /step 2 samtools sort .* OOM kill$/);
  assert.match(table[8]!, /^ {4}bash pipeline\.sh /);
  assert.match(table[11]!, /step 6 sleep .* - +running$/);
  // Every numeric column ends at the same offset.
  const ends = table.slice(0, 12).map((l) => (l.indexOf('procs') >= 0 ? l.indexOf('procs') + 5 : -1));
  assert.ok(ends[0]! > 0);
  for (const l of table.slice(1, 12)) assert.match(l.slice(0, ends[0]!), /\d$/);
  assert.match(text, /1 process was still running when the trace ended/);
});

test('consecutive steps with the same label that ended cleanly share a row', () => {
  const up = (pid: number) => `5f1c9a3e-${pid}-${pid}`;
  const events: unknown[] = [{ type: 'trace.start', ts: 0, command: ['bash', 'loop.sh'], rootPid: 1, mode: 'bpf' }];
  const proc = (pid: number, argv: string[], exit: Record<string, unknown>) => {
    const base = { pid, upid: up(pid) };
    events.push({
      type: 'process.exec',
      ts: pid,
      ...base,
      ppid: 1,
      uid: 0,
      exe: argv[0],
      argv,
      argvTruncated: false,
      cwd: '/',
    });
    if (exit.running) return;
    events.push({
      type: 'process.exit',
      ts: pid + 1,
      ...base,
      exitCode: 0,
      signal: null,
      coreDumped: false,
      cpuUserNs: 1,
      cpuSysNs: 1,
      peakRssBytes: 1,
      readBytes: 1,
      writeBytes: 1,
      ...exit,
    });
  };
  events.push({
    type: 'process.exec',
    ts: 0,
    pid: 1,
    upid: up(1),
    ppid: 0,
    uid: 0,
    exe: 'bash',
    argv: ['bash', 'loop.sh'],
    argvTruncated: false,
    cwd: '/',
  });
  for (let pid = 10; pid < 14; pid++) proc(pid, ['fastqc', `s${pid}.fq`], {});
  proc(14, ['fastqc', 's14.fq'], { exitCode: 1 });
  proc(15, ['fastqc', 's15.fq'], {});
  proc(16, ['fastqc', 's16.fq'], { running: true });
  const text = renderSummary(ProcessTable.from(events as never));
  assert.match(text, /^ {2}steps 1-4 fastqc \(4\) +4 /m);
  assert.match(text, /^ {2}step 5 fastqc +1 .* exit 1$/m);
  assert.match(text, /^ {2}step 6 fastqc +1 .* ok$/m);
  assert.match(text, /^ {2}step 7 fastqc +1 .* running$/m);
});
