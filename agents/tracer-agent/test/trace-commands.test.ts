// `tracer trace list|dump|anomalies` on traces that `tracer run` just wrote (/proc capture,
// which every host has), in a data folder of their own.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { tracer, tracerEnv } from './tracer-cli.ts';

const data = mkdtempSync(join(tmpdir(), 'tracer-trace-cmd-test-'));
const env = tracerEnv(data, 'proc', { TRACER_TRACE_KEEP: '3' });
const traces = join(data, 'traces');
let leftRunning: number | undefined;

before(() => {
  const runs: Array<[string, string[], number]> = [
    ['cancelled', ['sh', '-c', 'sleep 0.3; kill -TERM $$'], 143],
    ['failed', ['sh', '-c', 'sleep 0.3; exit 2'], 2],
    // A background sleep outlives the script: still running when the trace ends.
    ['background', ['bash', '-c', 'sleep 2 & sleep 0.4'], 0],
  ];
  for (const [name, command, status] of runs) {
    const r = tracer(['run', '--run', name, '--', ...command], env);
    assert.equal(r.status, status, r.stderr);
  }
});

after(() => {
  const files = readdirSync(traces).filter((f) => f.endsWith('.jsonl'));
  for (const f of files) {
    const m = /"argv":\["sleep","2"\][^\n]*/.exec(readFileSync(join(traces, f), 'utf8'));
    if (m) leftRunning = Number(/"pid":(\d+)/.exec(m[0])?.[1]);
  }
  // The background sleep this test started, by its pid.
  if (leftRunning) {
    try {
      process.kill(leftRunning, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(data, { recursive: true, force: true });
});

test('trace list shows the traces newest first, older ones compressed', () => {
  const r = tracer(['trace', 'list'], env);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0]!, new RegExp(`^Traces in ${traces}, newest first \\(the last 3 are kept\\):$`));
  assert.match(
    lines[1]!,
    /^ {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ +proc +[\d.]+ [KM]?i?B +\d{8}T\d{6}Z-background\.jsonl +bash -c sleep 2 &/,
  );
  assert.match(lines[2]!, /-failed\.jsonl\.gz +sh -c sleep 0\.3; exit 2$/);
  assert.match(lines[3]!, /-cancelled\.jsonl\.gz +sh -c sleep 0\.3; kill -TERM \$\$$/);

  const json = tracer(['trace', 'list', '--json'], env);
  const listed = JSON.parse(json.stdout) as Array<{
    path: string;
    compressed: boolean;
    run: string;
    mode: string;
    command: string[];
  }>;
  assert.deepEqual(
    listed.map((t) => [t.run, t.compressed, t.mode]),
    [
      ['background', false, 'proc'],
      ['failed', true, 'proc'],
      ['cancelled', true, 'proc'],
    ],
  );
});

test('trace dump prints a JSON array of the events, plain or gzip-compressed, filtered by type', () => {
  const latest = tracer(['trace', 'dump'], env);
  assert.equal(latest.status, 0, latest.stderr);
  const events = JSON.parse(latest.stdout) as Array<{ type: string }>;
  const file = readdirSync(traces).find((f) => f.endsWith('-background.jsonl'))!;
  const lines = readFileSync(join(traces, file), 'utf8').trim().split('\n');
  assert.deepEqual(
    events,
    lines.map((l) => JSON.parse(l)),
  );

  const gz = readdirSync(traces).find((f) => f.endsWith('-failed.jsonl.gz'))!;
  const dumped = JSON.parse(tracer(['trace', 'dump', gz], env).stdout) as unknown[];
  const raw = gunzipSync(readFileSync(join(traces, gz)))
    .toString()
    .trim()
    .split('\n');
  assert.deepEqual(
    dumped,
    raw.map((l) => JSON.parse(l)),
  );

  const exits = JSON.parse(
    tracer(['trace', 'dump', '--filter', 'process.exit,agent', join(traces, gz)], env).stdout,
  ) as Array<{ type: string }>;
  assert.ok(exits.length >= 2);
  assert.ok(exits.every((e) => e.type === 'process.exit' || e.type === 'agent.stats'));
});

test('trace dump keeps going past a truncated last line, says so, and exits 1', () => {
  const file = join(data, 'cut.jsonl');
  const src = readdirSync(traces).find((f) => f.endsWith('-background.jsonl'))!;
  writeFileSync(file, readFileSync(join(traces, src)));
  appendFileSync(file, '{"type":"process.exi');
  const r = tracer(['trace', 'dump', file], env);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /line \d+ skipped/);
  assert.ok((JSON.parse(r.stdout) as unknown[]).length > 3);
});

test('trace anomalies: still running in the latest trace; cancelled, failed (with --all) in older ones', () => {
  const latest = tracer(['trace', 'anomalies'], env);
  assert.equal(latest.status, 0, latest.stderr);
  assert.match(
    latest.stdout,
    /^Running when the trace ended \(1\)\n {2}\+(?:0|[\d.]+(?:us|ms|s)) +pid \d+ +sleep +[\d.]+(?:us|ms|s) +state S +sleep 2$/m,
  );

  const cancelled = readdirSync(traces).find((f) => f.includes('-cancelled'))!;
  const c = tracer(['trace', 'anomalies', cancelled], env);
  assert.match(
    c.stdout,
    /^Cancelled \(1\)\n {2}\+[\d.]+m?s +pid \d+ +sleep +[\d.]+m?s +SIGTERM +sh -c sleep 0\.3; kill -TERM \$\$$/m,
  );

  const failed = readdirSync(traces).find((f) => f.includes('-failed'))!;
  assert.match(
    tracer(['trace', 'anomalies', failed], env).stdout,
    /^No anomalies among \d+ processes \(--all adds failed and timed-out ones\)\.$/m,
  );
  const all = tracer(['trace', 'anomalies', '--all', failed], env);
  assert.match(
    all.stdout,
    /^Failed \(1\)\n {2}\+[\d.]+m?s +pid \d+ +sleep +[\d.]+m?s +exit 2 +sh -c sleep 0\.3; exit 2$/m,
  );

  const json = JSON.parse(tracer(['trace', 'anomalies', '--all', '--json', failed], env).stdout) as Array<{
    kind: string;
  }>;
  assert.deepEqual(
    json.map((a) => a.kind),
    ['failed'],
  );
});

test('each trace command has --help, and a missing trace is an error that says where it looked', () => {
  for (const sub of [['trace'], ['trace', 'list'], ['trace', 'dump'], ['trace', 'anomalies'], ['run']]) {
    const r = tracer([...sub, '--help'], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: tracer /);
  }
  const r = tracer(['trace', 'dump', 'nope.jsonl'], env);
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`no trace nope\\.jsonl \\(neither a file nor a name in ${traces}\\)`));
  const empty = tracer(['trace', 'anomalies'], tracerEnv(join(data, 'empty'), 'proc'));
  assert.equal(empty.status, 1);
  assert.match(empty.stderr, /no traces in .*empty\/traces \(tracer run -- CMD writes one\)/);
});
