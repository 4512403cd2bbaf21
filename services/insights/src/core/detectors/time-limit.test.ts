import assert from 'node:assert/strict';
import { test } from 'node:test';
import { traceBuilder } from '../../../test/trace-builder.ts';
import { analyzeTrace } from '../analyze-trace.ts';

test('timeout(1) killing its command: time_limit on the command', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['timeout', '10', 'bwa', 'mem', 'ref.fa', 'r.fq'])
    .at(0.01)
    .exec(101, ['bwa', 'mem', 'ref.fa', 'r.fq'], { ppid: 100 })
    .at(10)
    .exit(101, { signal: 15 })
    .exit(100, { code: 124 });
  const insights = analyzeTrace(t.events);
  assert.deepEqual(
    insights.map((i) => [i.kind, i.pid, i.category]),
    [['time_limit', 101, 'time_limit']],
  );
  assert.match(insights[0]!.summary, /stopped by a time limit after 10(?:\.0)? s: SIGTERM from timeout\(1\)/);
});

test('Slurm cancelling at the time limit', () => {
  const t = traceBuilder();
  t.at(0)
    .exec(100, ['bash', 'job.sh'])
    .at(1)
    .exec(101, ['STAR', '--runThreadN', '8'], { ppid: 100 })
    .at(100)
    .log(100, 'slurmstepd: error: *** JOB 4242 ON node17 CANCELLED AT 2024-03-01T12:00:00 DUE TO TIME LIMIT ***\n')
    .exit(101, { signal: 15 })
    .exit(100, { code: 143 });
  const [i] = analyzeTrace(t.events);
  assert.equal(i?.kind, 'time_limit');
  assert.equal(i!.pid, 101);
});

test("a SIGTERM at the step's configured limit", () => {
  const t = traceBuilder();
  t.at(0).exec(101, ['bowtie2', '-x', 'idx']).at(60).exit(101, { signal: 15 });
  const [i] = analyzeTrace(t.events, { config: { steps: { bowtie2: { timeLimit: { limitNs: 60e9 } } } } });
  assert.equal(i?.kind, 'time_limit');
  const [j] = analyzeTrace(t.events);
  assert.equal(j?.kind, 'signal');
});
