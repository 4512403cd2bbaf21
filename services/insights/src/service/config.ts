// The insights service's environment, read once at start. Every bad variable is named in one
// error; defaults point at the local stack (infra/local).
import { readFileSync } from 'node:fs';
import { topics } from '@tracer/events';
import { stackAddresses } from '@tracer/local';
import { busAndDatabase, type Env, envReader } from '@tracer/service';
import { type LlmConfig, llmConfigFromEnv } from '../adapters/llm.ts';
import type { InsightsConfig } from '../core/config.ts';

export { ConfigError } from '@tracer/service';

export const DEFAULT_INSIGHTS_PORT = 18103;

export interface ServiceConfig {
  kafkaBrokers: string[];
  databaseUrl: string;
  /** withTenant's role; null when the database user is itself a member of tracer_app. */
  databaseRole: string | null;
  databasePoolMax: number;
  host: string;
  port: number;
  groupId: string;
  telemetryTopic: string;
  tasksTopic: string;
  insightsTopic: string;
  /** Partitions asked for the topics when this service creates them (match ingest's). */
  topicPartitions: number;
  concurrency: number;
  /** How often hosts with recent data get a clock-only step. */
  tickMs: number;
  /** How far a host's clock may run past its newest event while it sends nothing. */
  clockAheadMs: number;
  /** Finished insights and failed processes leave the state this long after they ended. */
  forgetAfterMs: number;
  /** How long step history read from the database is reused. */
  historyTtlMs: number;
  /** Detector overrides (defaults, per pipeline, per step), from TRACER_INSIGHTS_DETECTORS_FILE. */
  detectors: InsightsConfig | undefined;
  llm: LlmConfig | undefined;
}

export function loadServiceConfig(env: Env = process.env): ServiceConfig {
  const r = envReader(env);
  let detectors: InsightsConfig | undefined;
  const detectorsFile = r.optionalStr('TRACER_INSIGHTS_DETECTORS_FILE');
  if (detectorsFile) {
    try {
      detectors = JSON.parse(readFileSync(detectorsFile, 'utf8')) as InsightsConfig;
      if (typeof detectors !== 'object' || detectors === null || Array.isArray(detectors))
        throw new Error('not an object');
    } catch (err) {
      r.bad(
        'TRACER_INSIGHTS_DETECTORS_FILE',
        detectorsFile,
        `a JSON file of detector settings (${(err as Error).message})`,
      );
    }
  }
  let llm: LlmConfig | undefined;
  try {
    llm = llmConfigFromEnv(env);
  } catch (err) {
    r.problem((err as Error).message);
  }
  const config: ServiceConfig = {
    ...busAndDatabase(r, stackAddresses()),
    databasePoolMax: r.int('TRACER_INSIGHTS_DB_POOL_MAX', 4, 1, 200),
    host: r.str('TRACER_INSIGHTS_HOST', '127.0.0.1'),
    port: r.int('TRACER_INSIGHTS_PORT', DEFAULT_INSIGHTS_PORT, 0, 65535),
    groupId: r.str('TRACER_INSIGHTS_GROUP', 'tracer-insights'),
    telemetryTopic: r.str('TRACER_INSIGHTS_TELEMETRY_TOPIC', topics.normalized),
    tasksTopic: r.str('TRACER_INSIGHTS_TASKS_TOPIC', topics.tasks),
    insightsTopic: r.str('TRACER_INSIGHTS_TOPIC', topics.insights),
    topicPartitions: r.int('TRACER_INSIGHTS_TOPIC_PARTITIONS', 8, 1, 1024),
    concurrency: r.int('TRACER_INSIGHTS_CONCURRENCY', 2, 1, 64),
    tickMs: r.int('TRACER_INSIGHTS_TICK_MS', 5000, 100, 600_000),
    clockAheadMs: r.int('TRACER_INSIGHTS_CLOCK_AHEAD_MS', 60_000, 0, 24 * 3600_000),
    forgetAfterMs: r.int('TRACER_INSIGHTS_FORGET_AFTER_MS', 2 * 3600_000, 60_000, 30 * 24 * 3600_000),
    historyTtlMs: r.int('TRACER_INSIGHTS_HISTORY_TTL_MS', 60_000, 0, 24 * 3600_000),
    detectors,
    llm,
  };
  r.done();
  return config;
}
