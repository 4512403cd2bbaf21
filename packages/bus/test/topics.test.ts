// Topic provisioning, checked with the broker's own view (kafkajs admin, in this
// adapter-specific test only): creates, is idempotent, raises partitions, aligns retention.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stackAddresses } from '@tracer/local';
import { type Admin, Kafka, logLevel } from 'kafkajs';
import { type Bus, deadLetterTopicOf } from '../src/index.ts';
import { testBus, uniqueName } from './helpers.ts';

let bus: Bus;
let admin: Admin;
const name = uniqueName('topics');

before(async () => {
  bus = testBus();
  admin = new Kafka({ brokers: stackAddresses().kafkaBrokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
});
after(async () => {
  await bus.deleteTopics([name, deadLetterTopicOf(name)]);
  await admin.disconnect();
  await bus.close();
});

async function describeTopic(topic: string) {
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2, name: topic }] });
  const retention = resources[0]?.configEntries.find((e) => e.configName === 'retention.ms')?.configValue;
  return { partitions: topics[0]?.partitions.length, retention };
}

test('ensureTopics creates, is idempotent, raises partitions and aligns retention', async () => {
  const spec = { name, partitions: 2, retentionMs: 3_600_000, deadLetter: { retentionMs: 7_200_000 } };
  await bus.ensureTopics([spec]);
  assert.deepEqual(await describeTopic(name), { partitions: 2, retention: '3600000' });
  assert.deepEqual(await describeTopic(deadLetterTopicOf(name)), { partitions: 2, retention: '7200000' });

  await bus.ensureTopics([spec]);
  assert.deepEqual(await describeTopic(name), { partitions: 2, retention: '3600000' });

  await bus.ensureTopics([{ ...spec, partitions: 3, retentionMs: 86_400_000 }]);
  assert.deepEqual(await describeTopic(name), { partitions: 3, retention: '86400000' });
  assert.equal((await bus.endOffsets(name)).length, 3);

  // Kafka cannot lower a partition count: asking for fewer leaves the topic as it is.
  await bus.ensureTopics([{ ...spec, partitions: 1, retentionMs: 86_400_000 }]);
  assert.equal((await describeTopic(name)).partitions, 3);
});

test('a dead-letter topic gets the config of its source', async () => {
  const config = { 'max.message.bytes': String(2 * 1024 * 1024) };
  await bus.ensureTopics([{ name, partitions: 1, config, deadLetter: true }]);
  const { resources } = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [{ type: 2, name: deadLetterTopicOf(name) }],
  });
  const maxBytes = resources[0]?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue;
  assert.equal(maxBytes, config['max.message.bytes']);
});

test('bad specs are refused before touching the broker', async () => {
  await assert.rejects(bus.ensureTopics([{ name: uniqueName('bad'), partitions: 0 }]), /positive integer/);
});
