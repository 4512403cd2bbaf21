import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deserialize, serialize } from 'node:v8';
import type { Insight, TelemetryEvent } from '@tracer/events';
import { runRecord, upsert } from '../../test/attribution-records.ts';
import { attributionChanges, essentials, expectedInsights, recordedEvents } from '../../test/recorded-trace.ts';
import { traceBuilder } from '../../test/trace-builder.ts';
import { activePipelines, createHostStream, type HostStreamState, stepHost, tickHost } from './host-stream.ts';

const S = 1e9;

/** The recorded trace fed as the service gets it: telemetry and tasks.v1 in alternating batches. */
function feed(
  events: TelemetryEvent[],
  options: { interruptAt?: number } = {},
): { state: HostStreamState; emitted: Map<string, Insight> } {
  const changes = attributionChanges(events, 100);
  let state = createHostStream();
  const emitted = new Map<string, Insight>();
  let offset = 0;
  for (let k = 0; k * 100 < events.length; k++) {
    if (k === options.interruptAt) state = deserialize(serialize(state)) as HostStreamState;
    const batch = { events: events.slice(k * 100, (k + 1) * 100) };
    for (const i of stepHost(state, batch).insights) emitted.set(i.id, i);
    const positioned = changes[k]!.map((change) => ({ partition: 0, offset: String(offset++), change }));
    for (const i of stepHost(state, { changes: positioned }).insights) emitted.set(i.id, i);
  }
  return { state, emitted };
}

test('the host stream over a recorded trace gives what analyzeTrace gives, tasks included', () => {
  const events = recordedEvents();
  const expected = expectedInsights(events);
  const { state, emitted } = feed(events);
  assert.equal(expected.length, 2);
  assert.deepEqual(essentials([...state.engine.insights.values()]), essentials(expected));
  assert.deepEqual(essentials([...emitted.values()]), essentials(expected));
  for (const i of emitted.values()) assert.ok(i.taskId && i.runId && i.stepId, JSON.stringify(i));
});

test('the state survives node:v8 serialization mid-trace: same final insights as uninterrupted', () => {
  const events = recordedEvents();
  const whole = feed(events);
  for (const at of [1, 4, 7]) {
    const cut = feed(events, { interruptAt: at });
    assert.deepEqual([...cut.state.engine.insights.values()], [...whole.state.engine.insights.values()]);
    assert.deepEqual(essentials([...cut.emitted.values()]), essentials([...whole.emitted.values()]));
  }
  // And the round trip itself is exact (no class instance, no function in the state).
  assert.deepEqual(deserialize(serialize(whole.state)), whole.state);
});

test('replayed events and tasks.v1 messages are no-ops (per-agent seq and per-partition offset)', () => {
  const events = recordedEvents();
  const { state } = feed(events);
  const before = serialize(state);
  const again = stepHost(state, { events: events.slice(0, 500) });
  assert.deepEqual(again.insights, []);
  assert.equal(again.duplicates, 500);
  const change = attributionChanges(events, events.length)[0]![0]!;
  assert.equal(stepHost(state, { changes: [{ partition: 0, offset: '3', change }] }).changesApplied, 0);
  assert.deepEqual(serialize(state), before);
});

test('the clock alone raises no_progress when stallClockNs lets it run past the last sample', () => {
  const t = traceBuilder();
  t.at(0).exec(10, ['cat', '/tmp/fifo']).sample(10, { cpuS: 0.01 });
  t.at(1).sample(10, { cpuS: 0.01 });
  const state = createHostStream();
  const config = { defaults: { noProgress: { afterNs: 5 * S } } };
  stepHost(state, { events: t.events.splice(0) }, { config, stallClockNs: 60 * S });
  assert.deepEqual(tickHost(state, t.now + 2 * S, { config, stallClockNs: 60 * S }), []);
  // Without stallClockNs (tracer run) the clock never stands in for samples.
  assert.deepEqual(tickHost(state, t.now + 30 * S, { config }), []);
  const [i] = tickHost(state, t.now + 6 * S, { config, stallClockNs: 60 * S });
  assert.equal(i?.kind, 'no_progress');
  assert.equal(i?.pid, 10);
});

test('the clock stands in only for a silent host: a process whose samples stopped while the host went on is no stall', () => {
  const t = traceBuilder();
  t.at(0).exec(10, ['tool']).sample(10, { cpuS: 0.01 }).exec(11, ['other']);
  const state = createHostStream();
  const options = { config: { defaults: { noProgress: { afterNs: 5 * S } } }, stallClockNs: 60 * S };
  // pid 10's exit was lost; the host keeps sending samples of pid 11 (working) for 30 s.
  for (let s = 1; s <= 30; s++) t.at(s).sample(11, { cpuS: s });
  stepHost(state, { events: t.events.splice(0) }, options);
  assert.deepEqual(tickHost(state, t.now + 3 * S, options), []);
});

test('state stays bounded over a day of a whole-host stream with forgetAfterNs', () => {
  const t = traceBuilder();
  const state = createHostStream();
  const options = { forgetAfterNs: 2 * 3600 * S };
  let maxProcesses = 0;
  let maxInsights = 0;
  let emitted = 0;
  // Twelve hours (six times the retention): every 10 s a failing command (a new command line
  // each time, so retry keys differ), a clean one, and once a minute a host sample.
  const steps = 12 * 360;
  for (let k = 0; k < steps; k++) {
    const s = k * 10;
    const pid = 1000 + (k % 30000);
    t.at(s).exec(pid, ['grep', `pattern-${k}`, '/data/in.txt']);
    t.at(s + 1)
      .log(pid, `grep: /data/in-${k}.txt: No such file or directory\n`)
      .exit(pid, { code: 2 });
    t.at(s + 2)
      .exec(pid + 40000, ['true'])
      .exit(pid + 40000);
    if (k % 6 === 0) t.host({ busy: 0.5 });
    emitted += stepHost(state, { events: t.events.splice(0) }, options).insights.length;
    maxProcesses = Math.max(maxProcesses, state.engine.processes.size);
    maxInsights = Math.max(maxInsights, state.engine.insights.size);
  }
  assert.ok(emitted >= steps, `every failure was reported (${emitted})`);
  // Two hours of failures at one per 10 s is 720 insights; clean processes leave after 30 min.
  assert.ok(maxInsights <= 800, `insights held: ${maxInsights}`);
  assert.ok(maxProcesses <= 800 + 200, `processes held: ${maxProcesses}`);
  assert.ok(state.engine.attempts.size <= 1000, `attempt keys held: ${state.engine.attempts.size}`);
  assert.ok(state.engine.failureOf.size <= 800, `failures held: ${state.engine.failureOf.size}`);
  assert.ok(serialize(state).length < 8 * 1024 * 1024, `snapshot bytes: ${serialize(state).length}`);
});

test('an insight raised and forgotten within one step (hours of backlog in one batch) is still returned', () => {
  const t = traceBuilder();
  for (let k = 0; k < 10; k++) {
    t.at(k * 3600).exec(100 + k, ['grep', `p${k}`, '/data/x']);
    t.at(k * 3600 + 1)
      .log(100 + k, 'grep: /data/x: No such file or directory\n')
      .exit(100 + k, { code: 2 });
  }
  const state = createHostStream();
  const r = stepHost(state, { events: t.events }, { forgetAfterNs: 2 * 3600 * S });
  assert.equal(r.insights.length, 10);
  assert.ok(state.engine.insights.size <= 3, `held: ${state.engine.insights.size}`);
});

test('a live process the host says nothing about for forgetAfterNs (its exit lost) is forgotten, with its open insight', () => {
  const t = traceBuilder();
  const options = { forgetAfterNs: 2 * 3600 * S, config: { defaults: { noProgress: { afterNs: 5 * S } } } };
  t.at(0).exec(10, ['cat', '/tmp/fifo']).sample(10, { cpuS: 0.01 });
  t.at(10).sample(10, { cpuS: 0.01 });
  t.at(11).exec(20, ['daemon']);
  const state = createHostStream();
  assert.deepEqual(
    stepHost(state, { events: t.events.splice(0) }, options).insights.map((i) => i.kind),
    ['no_progress'],
  );
  // pid 10's exit never came; pid 20 goes on being sampled for three hours.
  for (let s = 60; s <= 3 * 3600; s += 60) {
    t.at(s).sample(20, { cpuS: s / 100 });
    stepHost(state, { events: t.events.splice(0) }, options);
  }
  assert.deepEqual(
    [...state.engine.processes.values()].map((p) => p.pid),
    [20],
  );
  assert.equal(state.engine.insights.size, 0);
});

test('the pipelines whose history a step needs include those of the runs arriving in it', () => {
  // tasks.v1 runs behind the telemetry: a run's first change can come after its processes ended.
  const state = createHostStream();
  const scope = { tenant: 't', host: 'h' };
  stepHost(state, {
    changes: [{ partition: 0, offset: '0', change: upsert('run', runRecord({ ...scope, id: 'r1', pipeline: 'old' })) }],
  });
  const incoming = [
    { partition: 0, offset: '1', change: upsert('run', runRecord({ ...scope, id: 'r2', pipeline: 'new' })) },
  ];
  assert.deepEqual([...activePipelines(state).keys()], ['old']);
  assert.deepEqual(Object.fromEntries(activePipelines(state, incoming)), { old: ['r1'], new: ['r2'] });
});
