// `tracer run` end to end on real commands, once per capture mode: the /proc fallback always,
// eBPF where createBpfSource loads here (skipped with its reason otherwise). Checks the exit
// status, the trace file contract of issue 3, schema validity, redaction and OOM victims.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventTypes } from '@tracer/events';
import {
  bpfUnavailable,
  type Mode,
  memoryCgroup,
  ofType,
  readJsonl,
  readValidTrace,
  tracer,
  tracerAsync,
  tracerEnv,
} from './tracer-cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tracer-run-test-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const bpfSkip = await bpfUnavailable();
if (bpfSkip) process.stderr.write(`# bpf mode skipped: ${bpfSkip}\n`);

/** The types and fields issue 3's trace file contract names. */
function assertContract(lines: Record<string, unknown>[]): void {
  const has = (l: Record<string, unknown>, fields: string[]) => {
    for (const f of fields) assert.ok(f in l, `${l.type} line lacks ${f}: ${JSON.stringify(l).slice(0, 200)}`);
  };
  for (const l of lines) {
    assert.equal(typeof l.type, 'string');
    assert.ok(Number.isInteger(l.ts) && (l.ts as number) > 1.6e18, `ts in ns since the epoch: ${l.ts}`);
    if (l.type === 'process.exec') has(l, ['pid', 'ppid', 'exe', 'argv']);
    if (l.type === 'process.exit') {
      has(l, ['pid', 'exitCode', 'signal', 'peakRssBytes', 'cpuUserNs', 'cpuSysNs', 'readBytes', 'writeBytes']);
      assert.ok(l.signal === null || typeof l.signal === 'number');
    }
    if (l.type === 'oom.kill') has(l, ['victimPid']);
    if (l.type === 'log.chunk') {
      has(l, ['pid', 'stream', 'text']);
      assert.ok(l.stream === 'stdout' || l.stream === 'stderr');
    }
  }
  assert.equal(lines[0]?.type, 'trace.start');
  const last = lines.at(-1)!;
  assert.equal(last.type, 'agent.stats');
  has(last, ['droppedKernel', 'droppedUser']);
}

let n = 0;
const outFile = () => join(tmp, `t${++n}.jsonl`);

for (const mode of ['proc', 'bpf'] as Mode[]) {
  describe(`tracer run, ${mode} capture`, { skip: mode === 'bpf' ? bpfSkip : false }, () => {
    const env = tracerEnv(join(tmp, `data-${mode}`), mode);

    test('returns the command status: 0, 3, and 128 + signal', () => {
      for (const [script, status, exitCode, signal] of [
        ['exit 0', 0, 0, null],
        ['exit 3', 3, 3, null],
        ['kill -TERM $$', 143, 0, 15],
        ['kill -KILL $$', 137, 0, 9],
      ] as const) {
        const out = outFile();
        const r = tracer(['run', '--out', out, '--', 'sh', '-c', script], env);
        assert.equal(r.status, status, `${script}: ${r.stderr}`);
        const events = readValidTrace(out);
        const start = ofType(events, 'trace.start')[0]!;
        assert.equal(start.mode, mode);
        const root = ofType(events, 'process.exit').find((e) => e.pid === start.rootPid);
        assert.ok(root, `${script}: an exit for the root process`);
        assert.equal(root.exitCode, exitCode, script);
        assert.equal(root.signal, signal, script);
        assert.notEqual(root.exitCodeUnknown, true);
        const exec = ofType(events, 'process.exec').find((e) => e.pid === start.rootPid);
        assert.deepEqual(exec?.argv, ['sh', '-c', script]);
      }
    });

    test('writes every process of the subtree, in a valid trace that keeps the contract', () => {
      const out = outFile();
      // Each process lives 0.5 s, so /proc polls catch it even on a loaded test machine.
      const script = 'sleep 0.5; python3 -c "import time; time.sleep(0.5)"; sh -c "sleep 0.5; exit 4"; exit 0';
      const r = tracer(
        ['run', '--run', 'subtree', '--sample-interval', '100', '--out', out, '--', 'bash', '-c', script],
        env,
      );
      assert.equal(r.status, 0, r.stderr);
      const lines = readJsonl(out);
      assertContract(lines);
      const events = readValidTrace(out);
      const execs = ofType(events, 'process.exec');
      const programs = execs.map((e) => e.argv[0]);
      for (const p of ['bash', 'sleep', 'sh']) assert.ok(programs.includes(p), `${p} in ${programs}`);
      assert.ok(
        execs.some((e) => /python3?$/.test(e.exe) || e.argv.join(' ').includes('time.sleep')),
        'python ran',
      );
      const start = ofType(events, 'trace.start')[0]!;
      assert.equal(start.run, 'subtree');
      assert.equal(execs[0]?.pid, start.rootPid, 'the root exec is the first');
      // Every process seen (forked or exec'd) also exits, nothing was left running, each exactly once.
      const exits = ofType(events, 'process.exit');
      const seen = [...execs, ...ofType(events, 'process.fork')].map((e) => e.upid);
      assert.deepEqual(new Set(exits.map((e) => e.upid)), new Set(seen));
      assert.equal(new Set(exits.map((e) => e.upid)).size, exits.length);
      const inner = exits.find(
        (e) => execs.find((x) => x.upid === e.upid)?.argv.join(' ') === 'sh -c sleep 0.5; exit 4',
      );
      if (mode === 'bpf') assert.equal(inner?.exitCode, 4);
      // Samples of live processes and of the host while it ran.
      assert.ok(ofType(events, 'process.sample').length > 0, 'process samples');
      assert.ok(ofType(events, 'host.sample').length > 0, 'host samples');
      assert.equal(ofType(events, 'host.info').length, 1);
      // Envelope: one agent, consecutive seqs.
      assert.deepEqual(
        events.map((e) => e.seq),
        events.map((_, i) => i),
      );
      assert.equal(new Set(events.map((e) => e.agentId)).size, 1);
      const stats = ofType(events, 'agent.stats')[0]!;
      assert.equal(stats.eventsSent, events.length - 1);
      assert.equal(stats.droppedUser, 0);
      if (mode === 'proc')
        assert.ok(
          exits.every((e) => e.sampled === true),
          'fallback records are marked sampled',
        );
      // The summary on stderr: the run > step > task > tool tree with its steps.
      assert.match(r.stderr, /^script run \S+ \/ subtree · succeeded/m);
      assert.match(r.stderr, /^[├└]─ sleep · /m);
    });

    test('redacts secrets in argv (and in captured output where output is captured)', () => {
      const out = outFile();
      const r = tracer(
        [
          'run',
          '--out',
          out,
          '--',
          'sh',
          '-c',
          'echo key=AKIAIOSFODNN7EXAMPLE >&2; sleep 0.3',
          'x',
          '--password=hunter2',
        ],
        env,
      );
      assert.equal(r.status, 0, r.stderr);
      const text = readFileSync(out, 'utf8');
      assert.doesNotMatch(text, /hunter2/);
      assert.doesNotMatch(text, /AKIAIOSFODNN7EXAMPLE/);
      assert.match(text, /--password=\[REDACTED:password\]/);
      const events = readValidTrace(out);
      if (mode === 'bpf') {
        const logs = ofType(events, 'log.chunk').filter((e) => e.stream === 'stderr');
        assert.ok(
          logs.some((e) => e.text.includes('[REDACTED:aws-access-key]')),
          `stderr captured and redacted: ${JSON.stringify(logs)}`,
        );
      }
    });

    test('names the OOM-killed victim in a memory-limited cgroup', async (t) => {
      const cg = memoryCgroup(`tracer-run-test-${mode}-${process.pid}`, 64 * 1024 * 1024);
      if (typeof cg === 'string') return t.skip(cg);
      try {
        const out = outFile();
        const script = `echo $$ > ${cg.procs}; exec python3 -c 'x = bytearray(400 * 1024 * 1024); print(len(x))'`;
        const r = tracer(['run', '--out', out, '--', 'sh', '-c', script], env);
        assert.equal(r.status, 137, r.stderr);
        const events = readValidTrace(out);
        const oom = ofType(events, 'oom.kill');
        const root = ofType(events, 'trace.start')[0]!.rootPid;
        assert.equal(oom.length, 1, JSON.stringify(oom));
        assert.equal(oom[0]!.victimPid, root, 'the victim is the python process (exec of the root)');
        assert.equal(oom[0]!.constraint, 'memcg');
        assert.match(r.stderr, /oom_kill +python3? \(pid \d+\) was killed by the kernel OOM killer/);
      } finally {
        await sleep(100);
        cg.remove();
      }
    });

    test('forwards SIGTERM to the command and exits 143', async () => {
      const out = outFile();
      const { child, done } = tracerAsync(['run', '--out', out, '--', 'sleep', '30'], env);
      // Wait until the trace shows the sleep (loading the programs takes seconds on a busy
      // machine), then signal tracer itself.
      const started = () => {
        try {
          return readFileSync(out, 'utf8').includes('"argv":["sleep","30"]');
        } catch {
          return false; // not written yet
        }
      };
      for (let i = 0; i < 300 && !started(); i++) await sleep(100);
      assert.ok(started(), 'the sleep is in the trace');
      child.kill('SIGTERM');
      const { status, stderr } = await done;
      assert.equal(status, 143, stderr);
      const events = readValidTrace(out);
      const exit = ofType(events, 'process.exit').find((e) => e.pid === ofType(events, 'trace.start')[0]!.rootPid);
      assert.equal(exit?.signal, 15);
    });

    test('a command that cannot be found exits 127 and still leaves a trace', () => {
      const out = outFile();
      const r = tracer(['run', '--out', out, '--', '/nonexistent/tool', 'a'], env);
      assert.equal(r.status, 127);
      assert.match(r.stderr, /cannot run \/nonexistent\/tool/);
      const events = readValidTrace(out);
      assert.deepEqual(
        events.map((e) => e.type),
        ['trace.start', 'host.info', 'agent.stats'],
      );
    });
  });
}

test('the /proc fallback produces the contract event types, and the types BPF produces for the same work', () => {
  const script = 'sleep 0.5; sh -c "sleep 0.5"; exit 0';
  const types = (mode: Mode) => {
    const out = outFile();
    const r = tracer(
      ['run', '--sample-interval', '100', '--out', out, '--', 'bash', '-c', script],
      tracerEnv(join(tmp, 'types'), mode),
    );
    assert.equal(r.status, 0, r.stderr);
    return new Set(readValidTrace(out).map((e) => e.type));
  };
  const proc = types('proc');
  for (const t of proc) assert.ok(eventTypes.includes(t), `${t} is a schema type`);
  for (const t of [
    'trace.start',
    'host.info',
    'process.fork',
    'process.exec',
    'process.exit',
    'process.sample',
    'host.sample',
    'agent.stats',
  ]) {
    assert.ok(proc.has(t as never), `proc mode writes ${t}`);
  }
  if (!bpfSkip) {
    const bpf = types('bpf');
    for (const t of proc) assert.ok(bpf.has(t), `bpf mode writes ${t} too`);
  }
});

test('the default trace location keeps the last N traces, older ones gzip-compressed', () => {
  const data = join(tmp, 'rotation');
  const env = tracerEnv(data, 'proc', { TRACER_TRACE_KEEP: '2' });
  for (const name of ['one', 'two', 'three']) {
    const r = tracer(['run', '--run', name, '--', 'true'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`trace: ${data}/traces/\\d{8}T\\d{6}Z-${name}\\.jsonl`));
  }
  const files = readdirSync(join(data, 'traces')).sort();
  assert.equal(files.length, 2, files.join(' '));
  assert.ok(
    files.some((f) => f.endsWith('-two.jsonl.gz')),
    files.join(' '),
  );
  assert.ok(
    files.some((f) => f.endsWith('-three.jsonl')),
    files.join(' '),
  );
});
