// The insights service's environment, read once at start. Every bad variable is named in one
// error; defaults point at the local stack (infra/local).
import { readFileSync } from 'node:fs';
import { topics } from '@tracer/events';
import { stackAddresses } from '@tracer/local';
import { type LlmConfig, llmConfigFromEnv } from '../adapters/llm.ts';
import type { InsightsConfig } from '../core/config.ts';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

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

type Env = Record<string, string | undefined>;

export function loadServiceConfig(env: Env = process.env): ServiceConfig {
  const problems: string[] = [];
  const raw = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const bad = (name: string, v: string, expected: string) =>
    problems.push(`${name}=${JSON.stringify(v)}: expected ${expected}`);
  const int = (name: string, fallback: number, min: number, max: number) => {
    const v = raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    bad(name, v, `an integer from ${min} to ${max}`);
    return fallback;
  };
  const stack = stackAddresses();
  const brokersText = raw('TRACER_KAFKA_BROKERS');
  const kafkaBrokers = brokersText?.split(',').map((b) => b.trim()) ?? stack.kafkaBrokers;
  if (brokersText && kafkaBrokers.some((b) => !/^[^\s:/]+:\d{1,5}$/.test(b)))
    bad('TRACER_KAFKA_BROKERS', brokersText, 'host:port[,host:port...]');
  const databaseUrl = raw('TRACER_DATABASE_URL') ?? stack.databaseUrl;
  if (!/^postgres(ql)?:$/.test(URL.parse(databaseUrl)?.protocol ?? ''))
    bad('TRACER_DATABASE_URL', databaseUrl, 'a postgres:// or postgresql:// URL');
  const role = raw('TRACER_DATABASE_ROLE') ?? 'tracer_app';
  let detectors: InsightsConfig | undefined;
  const detectorsFile = raw('TRACER_INSIGHTS_DETECTORS_FILE');
  if (detectorsFile) {
    try {
      detectors = JSON.parse(readFileSync(detectorsFile, 'utf8')) as InsightsConfig;
      if (typeof detectors !== 'object' || detectors === null || Array.isArray(detectors))
        throw new Error('not an object');
    } catch (err) {
      bad(
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
    problems.push((err as Error).message);
  }
  const config: ServiceConfig = {
    kafkaBrokers,
    databaseUrl,
    databaseRole: role === 'none' ? null : role,
    databasePoolMax: int('TRACER_INSIGHTS_DB_POOL_MAX', 4, 1, 200),
    host: raw('TRACER_INSIGHTS_HOST') ?? '127.0.0.1',
    port: int('TRACER_INSIGHTS_PORT', DEFAULT_INSIGHTS_PORT, 0, 65535),
    groupId: raw('TRACER_INSIGHTS_GROUP') ?? 'tracer-insights',
    telemetryTopic: raw('TRACER_INSIGHTS_TELEMETRY_TOPIC') ?? topics.normalized,
    tasksTopic: raw('TRACER_INSIGHTS_TASKS_TOPIC') ?? topics.tasks,
    insightsTopic: raw('TRACER_INSIGHTS_TOPIC') ?? topics.insights,
    topicPartitions: int('TRACER_INSIGHTS_TOPIC_PARTITIONS', 8, 1, 1024),
    concurrency: int('TRACER_INSIGHTS_CONCURRENCY', 2, 1, 64),
    tickMs: int('TRACER_INSIGHTS_TICK_MS', 5000, 100, 600_000),
    clockAheadMs: int('TRACER_INSIGHTS_CLOCK_AHEAD_MS', 60_000, 0, 24 * 3600_000),
    forgetAfterMs: int('TRACER_INSIGHTS_FORGET_AFTER_MS', 2 * 3600_000, 60_000, 30 * 24 * 3600_000),
    historyTtlMs: int('TRACER_INSIGHTS_HISTORY_TTL_MS', 60_000, 0, 24 * 3600_000),
    detectors,
    llm,
  };
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
