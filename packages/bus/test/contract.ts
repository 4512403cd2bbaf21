// The contract every Bus implementation passes against a real broker (STYLE.md, "adapter
// contract"). Each test owns its topics and consumer groups, so the tests run at once.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BatchDecodeError,
  decodeBatch,
  encodeBatch,
  topics as eventTopics,
  goldenEvents,
  validateEvent,
} from '@tracer/events';
import {
  type Bus,
  type ConsumedMessage,
  deadLetterTopicOf,
  PermanentError,
  type Reject,
  readDeadLetter,
  sendEventBatches,
} from '../src/index.ts';
import { eventually, fastRetry, fastTuning, offsetsOf, uniqueName } from './helpers.ts';

export function busContract(name: string, makeBus: () => Bus): void {
  describe(`${name}: bus contract`, { concurrency: true }, () => {
    let bus: Bus;
    const created: string[] = [];
    const topic = async (prefix: string, partitions: number, deadLetter = false) => {
      const t = uniqueName(prefix);
      await bus.ensureTopics([{ name: t, partitions, deadLetter }]);
      created.push(t, deadLetterTopicOf(t));
      return t;
    };

    before(() => {
      bus = makeBus();
    });
    after(async () => {
      await bus.deleteTopics(created);
      await bus.close();
    });

    test('round trip keeps per-key order across partitions', async () => {
      const t = await topic('order', 4);
      const producer = await bus.producer();
      const keys = Array.from({ length: 12 }, (_, i) => `tenant-${i % 3}/host-${i}`);
      const perKey = 40;
      // Interleave keys across several sends, as several agents' batches would arrive.
      for (let round = 0; round < 8; round++) {
        const messages = [];
        for (let seq = round * (perKey / 8); seq < (round + 1) * (perKey / 8); seq++) {
          for (const key of keys) messages.push({ key, value: JSON.stringify({ key, seq }) });
        }
        await producer.send(t, messages);
      }
      const seen = new Map<string, { seq: number; partition: number }[]>();
      let total = 0;
      const runner = await bus.consume({
        groupId: uniqueName('order'),
        topics: [t],
        tuning: { ...fastTuning, partitionsConsumedConcurrently: 4 },
        handler: async (messages) => {
          for (const m of messages) {
            const { key, seq } = JSON.parse(m.value!.toString()) as { key: string; seq: number };
            assert.equal(m.key?.toString(), key);
            seen.set(key, [...(seen.get(key) ?? []), { seq, partition: m.partition }]);
            total++;
          }
        },
      });
      await eventually('all messages consumed', () => total >= keys.length * perKey);
      await runner.stop();
      assert.equal(total, keys.length * perKey, 'each message exactly once in a clean run');
      const partitionsUsed = new Set<number>();
      for (const key of keys) {
        const got = seen.get(key) ?? [];
        assert.deepEqual(
          got.map((g) => g.seq),
          Array.from({ length: perKey }, (_, i) => i),
          `order of ${key}`,
        );
        const partitions = new Set(got.map((g) => g.partition));
        assert.equal(partitions.size, 1, `${key} stays on one partition`);
        partitionsUsed.add(got[0]!.partition);
      }
      assert.ok(partitionsUsed.size > 1, `keys spread over partitions (${[...partitionsUsed]})`);
      await producer.close();
    });

    test('an invalid event lands in the dead-letter topic with its reason and original bytes', async () => {
      const t = await topic('dlq', 2, true);
      const producer = await bus.producer();
      const valid = goldenEvents.find((e) => e.type === 'process.exit')!;
      const invalid = { ...valid, seq: 2, exitCode: 'boom' };
      await sendEventBatches(producer, t, [valid]);
      const invalidBytes = encodeBatch([invalid]);
      const garbage = Buffer.from('not a batch at all');
      await producer.send(t, [
        { key: `${valid.tenant}/${valid.host}`, value: invalidBytes, headers: { 'x-origin': 'agent-7' } },
        { key: `${valid.tenant}/${valid.host}`, value: garbage },
      ]);
      const accepted: number[] = [];
      const groupId = uniqueName('dlq');
      // The raw consumer's shape: decode, validate, keep the good events, reject the rest.
      const runner = await bus.consume({
        groupId,
        topics: [t],
        tuning: fastTuning,
        handler: async (messages) => {
          const rejects: Reject[] = [];
          for (const m of messages) {
            let lines: ReturnType<typeof decodeBatch>;
            try {
              lines = decodeBatch(m.value ?? Buffer.alloc(0));
            } catch (err) {
              if (err instanceof BatchDecodeError) throw new PermanentError(err.message);
              throw err;
            }
            for (const line of lines) {
              const v = 'value' in line ? validateEvent(line.value) : { ok: false as const, reason: line.error };
              if (v.ok) accepted.push(v.event.seq);
              else rejects.push({ message: m, reason: v.reason });
            }
          }
          return { rejects };
        },
      });
      const letters: ConsumedMessage[] = [];
      const dlqRunner = await bus.consume({
        groupId: uniqueName('dlq-reader'),
        topics: [deadLetterTopicOf(t)],
        tuning: fastTuning,
        handler: async (messages) => {
          letters.push(...messages);
        },
      });
      await eventually('two dead letters', () => letters.length >= 2);
      await runner.stop();
      await dlqRunner.stop();
      // The undecodable record throws PermanentError for its whole batch: isolating it runs the
      // good records again, which is why handlers must be idempotent.
      assert.deepEqual([...new Set(accepted)], [valid.seq]);
      assert.deepEqual(runner.stats().deadLettered, 2);

      const byValue = (b: Buffer) => letters.find((l) => l.value?.equals(b));
      const invalidLetter = byValue(invalidBytes);
      assert.ok(invalidLetter, 'the invalid batch is dead-lettered byte for byte');
      const info = readDeadLetter(invalidLetter)!;
      assert.match(info.reason, /process\.exit: \/exitCode/);
      assert.equal(info.sourceTopic, t);
      assert.equal(info.groupId, groupId);
      assert.equal(invalidLetter.key?.toString(), `${valid.tenant}/${valid.host}`);
      assert.equal(invalidLetter.headers['x-origin']?.toString(), 'agent-7', 'original headers kept');
      const garbageLetter = byValue(garbage);
      assert.ok(garbageLetter, 'undecodable bytes are dead-lettered as they came');
      assert.match(readDeadLetter(garbageLetter)!.reason, /unknown batch format/);
      // The source offsets in the headers point at the originals, and everything committed.
      const end = await bus.endOffsets(t);
      const committed = await bus.committedOffsets(groupId, t);
      assert.deepEqual(
        committed.map((c) => (c.offset === '-1' ? '0' : c.offset)),
        offsetsOf(end),
        'every partition committed to its end (-1: empty partition, nothing to commit)',
      );
      assert.equal(Number(info.sourceOffset) >= 0 && info.sourcePartition >= 0, true);
      await producer.close();
    });

    test('a failing handler gets the same uncommitted messages again, then commits', async () => {
      const t = await topic('retry', 1);
      const producer = await bus.producer();
      await producer.send(t, [{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
      const groupId = uniqueName('retry');
      const calls: string[][] = [];
      const committedDuringFailures: string[][] = [];
      const runner = await bus.consume({
        groupId,
        topics: [t],
        tuning: fastTuning,
        retry: fastRetry,
        handler: async (messages) => {
          calls.push(messages.map((m) => m.value!.toString()));
          if (calls.length <= 2) {
            committedDuringFailures.push(offsetsOf(await bus.committedOffsets(groupId, t)));
            throw new Error('database unavailable');
          }
        },
      });
      await eventually('offset committed', async () => offsetsOf(await bus.committedOffsets(groupId, t))[0] === '3');
      await runner.stop();
      assert.deepEqual(calls, [
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
        ['a', 'b', 'c'],
      ]);
      assert.deepEqual(committedDuringFailures, [['-1'], ['-1']], 'nothing committed while failing');
      assert.equal(runner.stats().retries, 2);
      await producer.close();
    });

    test('stop lets the in-flight batch finish and commit', async () => {
      const t = await topic('stop', 1);
      const producer = await bus.producer();
      await producer.send(t, [{ value: '1' }, { value: '2' }]);
      const groupId = uniqueName('stop');
      let entered!: () => void;
      const inBatch = new Promise<void>((r) => {
        entered = r;
      });
      let finished = false;
      const runner = await bus.consume({
        groupId,
        topics: [t],
        tuning: fastTuning,
        handler: async () => {
          entered();
          await new Promise((r) => setTimeout(r, 300));
          finished = true;
        },
      });
      await inBatch;
      await runner.stop();
      assert.equal(finished, true);
      assert.deepEqual(offsetsOf(await bus.committedOffsets(groupId, t)), ['2']);
      await producer.close();
    });

    test('committed messages are not delivered again to the group', async () => {
      const t = await topic('resume', 1);
      const producer = await bus.producer();
      const groupId = uniqueName('resume');
      await producer.send(t, [{ value: 'first' }]);
      const seen: string[] = [];
      const handler = async (ms: ConsumedMessage[]) => {
        seen.push(...ms.map((m) => m.value!.toString()));
      };
      const one = await bus.consume({ groupId, topics: [t], tuning: fastTuning, handler });
      await eventually('first consumed', () => seen.length === 1);
      await one.stop();
      await producer.send(t, [{ value: 'second' }]);
      const two = await bus.consume({ groupId, topics: [t], tuning: fastTuning, handler });
      await eventually('second consumed', () => seen.length >= 2);
      await two.stop();
      assert.deepEqual(seen, ['first', 'second']);
      await producer.close();
    });

    test('the raw topic and its dead-letter topic are named as events says', () => {
      assert.equal(deadLetterTopicOf(eventTopics.raw), eventTopics.rawDeadLetter);
    });
  });
}
