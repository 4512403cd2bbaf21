import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttributionChange } from '@tracer/events';
import { taskRecord, upsert } from '../../test/attribution-records.ts';
import { traceBuilder } from '../../test/trace-builder.ts';
import { attachTaskRefs, createAttributionIndex, indexAttributionChanges, taskRefsByUpid } from './attribution-link.ts';
import { createInsightsState, stepInsights } from './engine.ts';

const scope = { tenant: 't1', host: 'h1' };

const task = (id: string, rootUpid: string, rootPid: number): AttributionChange =>
  upsert(
    'task',
    taskRecord({
      ...scope,
      id,
      runId: 'r1',
      stepId: 'r1/FASTQC',
      step: 'FASTQC',
      name: 'FASTQC (sample1)',
      rootUpid,
      rootPid,
    }),
  );

test('tasks named after the exec: ids on the failure, and the second attempt of the same task is a retry', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(10, ['nextflow', 'run', 'main.nf'])
    .at(1)
    .exec(101, ['bash', '.command.run'], { ppid: 10, cwd: '/w/ab' })
    .exec(102, ['fastqc', 's1.fq'], { ppid: 101, cwd: '/w/ab' })
    .log(102, 'Exception in thread "main" java.lang.OutOfMemoryError: Java heap space\n')
    .at(3)
    .exit(102, { code: 1 })
    .exit(101, { code: 1 })
    .at(4)
    .exec(201, ['bash', '.command.run'], { ppid: 10, cwd: '/w/cd' })
    .exec(202, ['fastqc', 's1.fq'], { ppid: 201, cwd: '/w/cd' })
    .at(6)
    .exit(202)
    .exit(201)
    .at(7)
    .exit(10);
  const state = createInsightsState();
  const index = createAttributionIndex();
  // Attribution speaks once the first batch is in (as it would, a batch late).
  const cut = t.events.findIndex((e) => e.type === 'process.exec' && e.pid === 201);
  stepInsights(state, t.events.slice(0, cut), t.events[cut - 1]!.ts);
  indexAttributionChanges(index, [task('task-1', t.upid(101), 101)]);
  assert.ok(attachTaskRefs(state, taskRefsByUpid(index)) >= 2);
  stepInsights(state, [], t.events[cut - 1]!.ts);
  const first = [...state.insights.values()];
  assert.deepEqual(
    first.map((i) => [i.kind, i.pid, i.taskId, i.stepId, i.category]),
    [['nonzero_exit', 102, 'task-1', 'r1/FASTQC', 'java_heap']],
  );

  stepInsights(state, t.events.slice(cut, cut + 2), t.events[cut + 1]!.ts);
  indexAttributionChanges(index, [task('task-2', t.upid(201), 201)]);
  attachTaskRefs(state, taskRefsByUpid(index));
  stepInsights(state, t.events.slice(cut + 2), t.now);
  const all = [...state.insights.values()];
  assert.deepEqual(
    all.map((i) => [i.kind, i.state, i.taskId]),
    [
      ['nonzero_exit', 'resolved', 'task-1'],
      ['retry', 'open', 'task-2'],
    ],
  );
  assert.match(all[1]!.summary, /attempt 2 .* succeeded/);
});
