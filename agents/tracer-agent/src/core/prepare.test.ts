import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSubtreeFilter } from './filter.ts';
import { ARGV_MAX_ITEMS, createRecordPreparer, LOG_TEXT_MAX_CHARS } from './prepare.ts';
import type { SourceRecord } from './source.ts';

const envelope = { tenant: 'local', host: 'h1', agentId: 'a1' };
const exec = (pid: number, ppid: number, argv: string[], extra: object = {}): SourceRecord => ({
  type: 'process.exec',
  ts: 1_700_000_000_000_000_000,
  pid,
  ppid,
  upid: `0123abcd-${pid}-1000`,
  uid: 0,
  exe: `/usr/bin/${argv[0]}`,
  argv,
  argvTruncated: false,
  cwd: '/tmp',
  ...extra,
});

test('stamps the envelope with consecutive seqs, type and ts first', () => {
  const p = createRecordPreparer({ envelope });
  const { events, rejects } = p.prepare([exec(1, 0, ['a']), exec(2, 1, ['b'])]);
  assert.deepEqual(rejects, []);
  assert.deepEqual(
    events.map((e) => e.seq),
    [0, 1],
  );
  assert.deepEqual(Object.keys(events[0]!).slice(0, 2), ['type', 'ts']);
  assert.equal(events[0]!.tenant, 'local');
  assert.equal(p.nextSeq(), 2);
});

test('redacts argv and log text, allowlists env, and bounds argv', () => {
  const p = createRecordPreparer({ envelope });
  const long = Array.from({ length: ARGV_MAX_ITEMS + 5 }, (_, i) => `arg${i}`);
  const { events, redactions } = p.prepare([
    exec(1, 0, ['aws', 's3', 'cp', '--secret-key', 'abc'], { env: { AWS_BATCH_JOB_ID: 'j1', SECRET: 'x' } }),
    exec(2, 1, long),
    {
      type: 'log.chunk',
      ts: 2,
      pid: 1,
      upid: '0123abcd-1-1000',
      stream: 'stderr',
      text: `key AKIAIOSFODNN7EXAMPLE ${'x'.repeat(LOG_TEXT_MAX_CHARS)}`,
    },
  ]);
  const [first, second, log] = events;
  assert.equal(first?.type, 'process.exec');
  assert.deepEqual(first.argv, ['aws', 's3', 'cp', '--secret-key', '[REDACTED:secret]']);
  assert.deepEqual(first.env, { AWS_BATCH_JOB_ID: 'j1' });
  assert.equal(second?.type === 'process.exec' && second.argv.length, ARGV_MAX_ITEMS);
  assert.equal(second?.type === 'process.exec' && second.argvTruncated, true);
  assert.equal(log?.type, 'log.chunk');
  assert.match(log.text, /^key \[REDACTED:aws-access-key\] x+$/);
  assert.equal(log.text.length, LOG_TEXT_MAX_CHARS);
  assert.ok((log.droppedBytes ?? 0) > 0);
  assert.deepEqual(redactions, ['secret', 'aws-access-key']);
});

test('an invalid record is rejected with its reason and leaves a seq gap', () => {
  const p = createRecordPreparer({ envelope });
  const bad = { ...exec(1, 0, ['a']), uid: -1 } as SourceRecord;
  const { events, rejects } = p.prepare([bad, exec(2, 0, ['b'])]);
  assert.equal(events.length, 1);
  assert.equal(events[0]!.seq, 1);
  assert.equal(rejects.length, 1);
  assert.match(rejects[0]!.reason, /^process\.exec: \/uid/);
});

test('applies the filter before stamping', () => {
  const p = createRecordPreparer({ envelope, filter: createSubtreeFilter(5) });
  const { events } = p.prepare([exec(5, 1, ['root']), exec(6, 5, ['child']), exec(7, 1, ['other'])]);
  assert.deepEqual(
    events.map((e) => (e.type === 'process.exec' ? e.pid : -1)),
    [5, 6],
  );
});

test('a record the policy cannot handle is rejected, not thrown', () => {
  const p = createRecordPreparer({ envelope });
  const broken = { type: 'process.exec', ts: 1, pid: 1, upid: '0123abcd-1-1', argv: null } as unknown as SourceRecord;
  const { events, rejects } = p.prepare([broken, exec(2, 0, ['b'])]);
  assert.equal(events.length, 1);
  assert.match(rejects[0]!.reason, /^malformed record: /);
  assert.equal(events[0]!.seq, 1);
});
