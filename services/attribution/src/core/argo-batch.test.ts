import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBuilder, outline, replay } from './test-events.ts';

test('AWS Batch: array job = run, each child job = task, identity from the allowlisted env', () => {
  const b = new EventBuilder();
  const env = (i: number) => ({
    AWS_BATCH_JOB_ID: `8f1c-job:${i}`,
    AWS_BATCH_JOB_ATTEMPT: '1',
    AWS_BATCH_JQ_NAME: 'genomics-spot',
    AWS_BATCH_CE_NAME: 'ce-spot',
  });
  b.exec(100, ['/bin/sh', '-c', 'bwa mem ref.fa s0.fq > s0.sam'], { env: env(0), containerId: 'c0' });
  b.spawn(101, 100, ['bwa', 'mem', 'ref.fa', 's0.fq'], { env: env(0), containerId: 'c0' });
  b.exec(200, ['/bin/sh', '-c', 'bwa mem ref.fa s1.fq > s1.sam'], { env: env(1), containerId: 'c1' });
  b.spawn(201, 200, ['bwa', 'mem', 'ref.fa', 's1.fq'], { env: env(1), containerId: 'c1' });
  // A second process entering container c1 (docker exec): same task.
  b.exec(202, ['samtools', 'flagstat', 's1.sam'], { env: env(1), containerId: 'c1' });
  b.exit(101).exit(100).exit(202).exit(201, 1).exit(200, 1);
  const { tree } = replay(b.events, null);
  assert.equal(tree.runs.length, 1);
  const run = tree.runs[0]!;
  assert.equal(run.engine, 'aws-batch');
  assert.equal(run.id, 'aws-batch:8f1c-job');
  assert.equal(run.pipeline, 'genomics-spot');
  assert.equal(run.status, 'failed');
  assert.deepEqual(outline(tree), ['bwa mem: 8f1c-job:0=succeeded, 8f1c-job:1=failed']);
  const t1 = run.steps[0]!.tasks[1]!;
  assert.deepEqual(
    t1.tools.map((t) => t.name),
    ['bwa mem', 'samtools flagstat'],
  );
});

test('Argo: workflow = run, pod = task, template = step', () => {
  const b = new EventBuilder();
  const env = (pod: string, template: string) => ({
    ARGO_WORKFLOW_NAME: 'rnaseq-x7k2p',
    ARGO_POD_NAME: pod,
    ARGO_TEMPLATE: JSON.stringify({ name: template, container: { image: 'x' } }),
  });
  b.exec(10, ['fastqc', 'r1.fq'], { env: env('rnaseq-x7k2p-fastqc-1234567', 'fastqc'), containerId: 'p1' });
  b.exec(20, ['salmon', 'quant', '-i', 'idx'], { env: env('rnaseq-x7k2p-quant-7654321', 'quant'), containerId: 'p2' });
  b.exit(10).exit(20);
  const { tree } = replay(b.events, null);
  assert.equal(tree.runs[0]!.engine, 'argo');
  assert.equal(tree.runs[0]!.name, 'rnaseq-x7k2p');
  assert.equal(tree.runs[0]!.status, 'succeeded');
  assert.deepEqual(outline(tree), [
    'fastqc: rnaseq-x7k2p-fastqc-1234567=succeeded',
    'quant: rnaseq-x7k2p-quant-7654321=succeeded',
  ]);
});

test('Argo without ARGO_TEMPLATE: the template comes from a v2 pod name', () => {
  const b = new EventBuilder();
  b.exec(10, ['multiqc', '.'], {
    env: { ARGO_WORKFLOW_NAME: 'qc-abcde', ARGO_POD_NAME: 'qc-abcde-report-998877' },
  }).exit(10);
  assert.deepEqual(outline(replay(b.events, null).tree), ['report: qc-abcde-report-998877=succeeded']);
});
