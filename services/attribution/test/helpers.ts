// Test aids for the attribution service's integration suites: a migrated database of its own
// per file (the template of @tracer/db's tests), unique topics, groups, tenants and hosts, and
// the rows of the four attribution tables read back as records.
import { type Bus, type ConsumedMessage, createKafkaBus, deadLetterTopicOf } from '@tracer/bus';
import type { AttributionChange, TelemetryEvent } from '@tracer/events';
import { freshDatabase, type TestDatabase } from '../../../packages/db/test/helpers.ts';
// The ingest suites' aids, shared: polling, unique names, quiet logs.
import { eventually, quietLogger, uniqueName, uniqueTenant } from '../../ingest/test/helpers.ts';
import { runRecord, stepRecord, taskRecord, toolRecord } from '../src/core/index.ts';
import type { AttributionState } from '../src/core/types.ts';
import { type AttributionConfig, loadAttributionConfig } from '../src/service/config.ts';
import { ensureAttributionTopics, type RunningAttribution, startAttribution } from '../src/service/server.ts';

export { eventually, quietLogger, uniqueName, uniqueTenant };

export interface AttributionEnv {
  db: TestDatabase;
  config: AttributionConfig;
  /** The same settings as environment variables, for a service run as a child process. */
  env: NodeJS.ProcessEnv;
  bus: Bus;
  close(): Promise<void>;
}

export async function attributionEnv(label: string, extra: NodeJS.ProcessEnv = {}): Promise<AttributionEnv> {
  const db = await freshDatabase(label);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TRACER_DATABASE_URL: db.url,
    TRACER_ATTRIBUTION_INPUT_TOPIC: uniqueName(`${label}.normalized`),
    TRACER_ATTRIBUTION_OUTPUT_TOPIC: uniqueName(`${label}.tasks`),
    TRACER_ATTRIBUTION_GROUP: uniqueName(`${label}.group`),
    TRACER_ATTRIBUTION_TOPIC_PARTITIONS: '2',
    TRACER_ATTRIBUTION_PORT: '0',
    TRACER_ATTRIBUTION_LOCAL_HOST: 'none',
    // A killed instance's partitions move after this (the broker's minimum).
    TRACER_ATTRIBUTION_SESSION_TIMEOUT_MS: '6000',
    ...extra,
  };
  const config = loadAttributionConfig(env);
  const bus = createKafkaBus({
    brokers: config.kafkaBrokers,
    clientId: 'attribution-test',
    logger: quietLogger('bus'),
  });
  await ensureAttributionTopics(bus, config);
  return {
    db,
    config,
    env,
    bus,
    async close() {
      await bus
        .deleteTopics([config.inputTopic, deadLetterTopicOf(config.inputTopic), config.outputTopic])
        .catch(() => {});
      await bus.close();
      await db.drop();
    },
  };
}

export async function runService(env: AttributionEnv): Promise<RunningAttribution> {
  const running = await startAttribution(env.config, quietLogger('attribution-test'));
  await running.consumer.runner.ready;
  return running;
}

/** The group has committed everything published to `topic` so far. */
export async function drained(bus: Bus, groupId: string, topic: string): Promise<boolean> {
  const ends = await bus.endOffsets(topic);
  const committed = new Map((await bus.committedOffsets(groupId, topic)).map((p) => [p.partition, p.offset]));
  return ends.every((e) => e.offset === '0' || committed.get(e.partition) === e.offset);
}

/** A trace's events as another tenant's host sent them. */
export function asHost(events: readonly TelemetryEvent[], tenant: string, host: string): TelemetryEvent[] {
  return events.map((e) => ({ ...e, tenant, host }));
}

/** Every record of a final attribution state, keyed `entity:id` like the rows. */
export function recordsOf(state: AttributionState): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const run of state.runs.values()) {
    out.set(`run:${run.id}`, runRecord(state, run));
    for (const step of run.steps.values()) out.set(`step:${step.id}`, stepRecord(state, run, step));
    for (const task of run.tasks.values()) {
      out.set(`task:${task.id}`, taskRecord(state, run, task));
      for (const id of task.tools) {
        const tool = state.entities.get(id);
        if (tool?.kind === 'tool') out.set(`tool:${id}`, toolRecord(state, tool));
      }
    }
  }
  return out;
}

const TABLES = { run: 'runs', step: 'steps', task: 'tasks', tool: 'tool_executions' } as const;

/** The four tables' rows of one tenant and host, as records keyed `entity:id`. */
export async function rowsOf(db: TestDatabase, tenant: string, host: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  for (const [entity, table] of Object.entries(TABLES)) {
    const { rows } = await db.pool.query<{ id: string; record: unknown }>(
      `SELECT id, record FROM ${table} WHERE tenant_id = $1 AND host = $2`,
      [tenant, host],
    );
    for (const r of rows) out.set(`${entity}:${r.id}`, r.record);
  }
  return out;
}

/** Reads a topic from the beginning with a group of its own until `done` says enough. */
export async function readTopic(
  bus: Bus,
  topic: string,
  done: (messages: ConsumedMessage[]) => boolean,
  timeoutMs = 60_000,
): Promise<ConsumedMessage[]> {
  const messages: ConsumedMessage[] = [];
  const runner = await bus.consume({
    groupId: uniqueName('reader'),
    topics: [topic],
    fromBeginning: true,
    handler: async (batch) => {
      messages.push(...batch);
    },
  });
  try {
    await eventually(`messages on ${topic}`, () => done(messages), timeoutMs);
  } finally {
    await runner.stop();
  }
  return messages;
}

export const changesOf = (messages: readonly ConsumedMessage[]) =>
  messages.map((m) => JSON.parse(m.value!.toString()) as AttributionChange);
