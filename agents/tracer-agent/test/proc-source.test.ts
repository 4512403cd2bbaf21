// The /proc fallback source against the real /proc of this host, and selectSource's choice.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProcSource } from '../src/adapters/proc-source.ts';
import { agentMode, pollIntervalMs, selectSource } from '../src/adapters/select-source.ts';
import type { SourceRecord } from '../src/core/source.ts';
import { bpfUnavailable } from './tracer-cli.ts';

const BOOT_ID = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
type Of<K extends SourceRecord['type']> = Extract<SourceRecord, { type: K }>;
const of = <K extends SourceRecord['type']>(records: SourceRecord[], type: K) =>
  records.filter((r): r is Of<K> => r.type === type);

async function capture(
  options: { descendantsOf?: number },
  command: string[],
): Promise<{ records: SourceRecord[]; pid: number }> {
  const records: SourceRecord[] = [];
  const source = new ProcSource({ ...options, bootId: BOOT_ID, kmsgPath: null });
  await source.start((batch) => records.push(...batch));
  const child = spawn(command[0]!, command.slice(1), { stdio: 'ignore' });
  await new Promise((done) => child.on('exit', done));
  await source.stop();
  return { records, pid: child.pid! };
}

test('a process caught as a zombie exits with its real status, and a later exec is reported', async () => {
  // python leaves its child unreaped for 0.5 s: /proc shows it as a zombie with its status.
  const script = [
    'import subprocess, time',
    "p = subprocess.Popen(['sh', '-c', 'sleep 0.2; exec sleep 0.2'])",
    "q = subprocess.Popen(['sh', '-c', 'sleep 0.1; exit 7'])",
    'time.sleep(0.8)',
    'p.wait(); q.wait()',
  ].join('\n');
  const { records } = await capture({ descendantsOf: process.pid }, ['/usr/bin/python3', '-c', script]);
  const execs = of(records, 'process.exec');
  const exits = of(records, 'process.exit');
  const failing = execs.find((e) => e.argv.join(' ') === 'sh -c sleep 0.1; exit 7')!;
  const exit7 = exits.find((e) => e.upid === failing.upid)!;
  assert.equal(exit7.exitCode, 7);
  assert.equal(exit7.exitCodeUnknown, undefined);
  assert.equal(exit7.sampled, true);
  // `exec sleep 0.2` replaces the shell in the same process: a second exec, same upid.
  const shell = execs.find((e) => e.argv.join(' ') === 'sh -c sleep 0.2; exec sleep 0.2')!;
  const again = execs.filter((e) => e.upid === shell.upid);
  assert.deepEqual(
    again.map((e) => e.argv.join(' ')),
    ['sh -c sleep 0.2; exec sleep 0.2', 'sleep 0.2'],
  );
  assert.equal(exits.find((e) => e.upid === shell.upid)?.exitCode, 0);
  // Parents link by upid; every fork and exec is marked sampled.
  for (const e of [...execs, ...of(records, 'process.fork')]) assert.equal(e.sampled, true);
  const python = execs.find((e) => e.argv[0] === '/usr/bin/python3')!;
  assert.equal(failing.parentUpid, python.upid);
});

test('whole-host mode sees processes that are not ours', async () => {
  const records: SourceRecord[] = [];
  const source = new ProcSource({ bootId: BOOT_ID, kmsgPath: null });
  await source.start((batch) => records.push(...batch));
  // Started through setsid + sh, so its parent is not this process.
  const child = spawn('setsid', ['sh', '-c', 'sleep 0.4'], { stdio: 'ignore' });
  await new Promise((done) => child.on('exit', done));
  await sleep(50);
  await source.stop();
  const exec = of(records, 'process.exec').find((e) => e.pid === child.pid && e.argv.join(' ') === 'sh -c sleep 0.4');
  assert.ok(exec, 'the sh');
  assert.ok(of(records, 'process.exec').some((e) => e.argv.join(' ') === 'sleep 0.4' && e.ppid === child.pid));
});

test('selectSource: TRACER_AGENT_MODE=proc forces the fallback and says so; a bad value stops at start', async () => {
  const { source, fallbackReason } = await selectSource({ descendantsOf: process.pid, bootId: BOOT_ID }, () => {}, {
    TRACER_AGENT_MODE: 'proc',
  });
  await source.stop();
  assert.equal(source.mode, 'proc');
  assert.match(fallbackReason!, /^TRACER_AGENT_MODE=proc/);
  assert.equal(agentMode({}), 'auto');
  assert.throws(
    () => agentMode({ TRACER_AGENT_MODE: 'ebpf' }),
    /TRACER_AGENT_MODE must be bpf, proc or auto, got "ebpf"/,
  );
  assert.equal(pollIntervalMs({ TRACER_AGENT_POLL_MS: '50' }), 50);
  assert.throws(() => pollIntervalMs({ TRACER_AGENT_POLL_MS: '0' }), /TRACER_AGENT_POLL_MS must be/);
});

test('selectSource: BPF when it loads, else the fallback with the reason BPF gave', async () => {
  const unavailable = await bpfUnavailable();
  const { source, fallbackReason } = await selectSource({ descendantsOf: process.pid, bootId: BOOT_ID }, () => {}, {});
  await source.stop();
  if (unavailable) {
    assert.equal(source.mode, 'proc');
    assert.ok(fallbackReason?.startsWith(unavailable), `${fallbackReason} starts with ${unavailable}`);
    await assert.rejects(
      selectSource({ descendantsOf: process.pid, bootId: BOOT_ID }, () => {}, { TRACER_AGENT_MODE: 'bpf' }),
      /BPF capture unavailable \(TRACER_AGENT_MODE=bpf\)/,
    );
  } else {
    assert.equal(source.mode, 'bpf');
    assert.equal(fallbackReason, undefined);
  }
});
