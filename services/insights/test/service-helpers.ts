// Test aids for the insights service's integration suites: a migrated database of its own,
// unique topics, group and tenant, the service started in-process on the real local stack,
// publishing as ingest (normalized batches) and attribution (tasks.v1 changes) do, and the
// insights read back from the table (topics are read with the attribution tests' helpers).
import { type Bus, createKafkaBus, deadLetterTopicOf } from '@tracer/bus';
import { type AttributionChange, encodeBatch, hostKey, type Insight, type TelemetryEvent } from '@tracer/events';
import { drained, readTopic } from '../../attribution/test/helpers.ts';
import {
  eventually,
  freshDatabase,
  quietLogger,
  type TestDatabase,
  uniqueName,
  uniqueTenant,
} from '../../ingest/test/helpers.ts';
import { loadServiceConfig, type ServiceConfig } from '../src/service/config.ts';
import { ensureInsightsTopics, type RunningInsights, startInsights } from '../src/service/server.ts';

export { drained, eventually, quietLogger, readTopic, uniqueName, uniqueTenant };

export interface InsightsEnv {
  db: TestDatabase;
  config: ServiceConfig;
  bus: Bus;
  tenant: string;
  host: string;
  close(): Promise<void>;
}

export async function insightsEnv(label: string, overrides: Partial<ServiceConfig> = {}): Promise<InsightsEnv> {
  const db = await freshDatabase(label);
  const config: ServiceConfig = {
    ...loadServiceConfig({ ...process.env, TRACER_DATABASE_URL: db.url }),
    telemetryTopic: uniqueName(`${label}.normalized`),
    tasksTopic: uniqueName(`${label}.tasks`),
    insightsTopic: uniqueName(`${label}.insights`),
    groupId: uniqueName(`${label}.group`),
    topicPartitions: 2,
    port: 0,
    tickMs: 250,
    llm: undefined,
    ...overrides,
  };
  const bus = createKafkaBus({ brokers: config.kafkaBrokers, clientId: 'insights-test', logger: quietLogger('bus') });
  await ensureInsightsTopics(bus, config);
  return {
    db,
    config,
    bus,
    tenant: uniqueTenant(label),
    host: `host-${label}`,
    async close() {
      const { telemetryTopic, tasksTopic, insightsTopic } = config;
      await bus
        .deleteTopics([
          telemetryTopic,
          tasksTopic,
          insightsTopic,
          deadLetterTopicOf(telemetryTopic),
          deadLetterTopicOf(tasksTopic),
        ])
        .catch(() => {});
      await bus.close();
      await db.drop();
    },
  };
}

export async function runService(env: InsightsEnv, overrides: Partial<ServiceConfig> = {}): Promise<RunningInsights> {
  const running = await startInsights({ ...env.config, ...overrides }, quietLogger('insights-test'));
  await running.consumer.runner.ready;
  return running;
}

/** Telemetry as the raw consumer publishes it: agent batches keyed tenant/host. */
export async function publishEvents(env: InsightsEnv, events: readonly TelemetryEvent[], perRecord = 100) {
  const producer = await env.bus.producer();
  const messages = [];
  for (let i = 0; i < events.length; i += perRecord)
    messages.push({ key: hostKey(env.tenant, env.host), value: encodeBatch(events.slice(i, i + perRecord)) });
  if (messages.length) await producer.send(env.config.telemetryTopic, messages);
  await producer.close();
}

/** Attribution changes as the attribution service publishes them: one JSON change per record. */
export async function publishChanges(env: InsightsEnv, changes: readonly AttributionChange[]) {
  const producer = await env.bus.producer();
  const key = hostKey(env.tenant, env.host);
  if (changes.length)
    await producer.send(
      env.config.tasksTopic,
      changes.map((c) => ({ key, value: JSON.stringify(c) })),
    );
  await producer.close();
}

export interface InsightRow {
  id: string;
  kind: string;
  state: string;
  pid: number | null;
  category: string | null;
  run_id: string | null;
  step_id: string | null;
  task_id: string | null;
  record: Insight;
}

export async function insightRows(env: InsightsEnv): Promise<InsightRow[]> {
  const { rows } = await env.db.pool.query<InsightRow>(
    'SELECT id, kind, state, pid, category, run_id, step_id, task_id, record FROM insights WHERE tenant_id = $1 ORDER BY id',
    [env.tenant],
  );
  return rows;
}
