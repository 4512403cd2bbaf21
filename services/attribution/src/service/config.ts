// The attribution service's environment, read once at start. Every bad variable is named in
// one error; defaults point at the local stack (infra/local), so `tracer up` needs no settings.
import { hostname } from 'node:os';
import { topics } from '@tracer/events';
import { stackAddresses } from '@tracer/local';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export const DEFAULT_ATTRIBUTION_PORT = 18102;

export interface AttributionConfig {
  kafkaBrokers: string[];
  databaseUrl: string;
  /** withTenant's role; null when the database user is itself a member of tracer_app. */
  databaseRole: string | null;
  databasePoolMax: number;
  /** Health and metrics endpoint. */
  httpHost: string;
  port: number;
  groupId: string;
  inputTopic: string;
  outputTopic: string;
  /** Partitions of the topics when this service provisions them. */
  topicPartitions: number;
  /** Partitions handled at once (each in order). */
  concurrency: number;
  /** Time without heartbeat after which the group drops a member (a killed instance's partitions move then). */
  sessionTimeoutMs: number;
  /**
   * Events of this host get file facts read from the local disk (the co-located deployment:
   * the agent and this service on one machine); null = none, the core works without facts.
   */
  localHost: string | null;
  /** How long (event time) an ended run stays in a host's state, for late events. */
  graceMs: number;
  /** Tool rules file; the shipped data/tool-rules.yaml when absent. */
  toolRulesFile: string | undefined;
}

export function loadAttributionConfig(env: NodeJS.ProcessEnv = process.env): AttributionConfig {
  const problems: string[] = [];
  const get = (name: string) => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const bad = (name: string, value: string, expected: string) =>
    problems.push(`${name}=${JSON.stringify(value)}: expected ${expected}`);
  const integer = (name: string, fallback: number, min: number, max: number) => {
    const v = get(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (Number.isInteger(n) && n >= min && n <= max) return n;
    bad(name, v, `an integer from ${min} to ${max}`);
    return fallback;
  };
  const stack = stackAddresses();

  const brokersText = get('TRACER_KAFKA_BROKERS');
  const kafkaBrokers = brokersText?.split(',').map((b) => b.trim()) ?? stack.kafkaBrokers;
  if (brokersText !== undefined && !kafkaBrokers.every((b) => /^[^\s:/]+:\d{1,5}$/.test(b))) {
    bad('TRACER_KAFKA_BROKERS', brokersText, 'host:port[,host:port...]');
  }
  const databaseUrl = get('TRACER_DATABASE_URL') ?? stack.databaseUrl;
  if (!URL.canParse(databaseUrl) || !['postgres:', 'postgresql:'].includes(new URL(databaseUrl).protocol)) {
    bad('TRACER_DATABASE_URL', databaseUrl, 'a postgres:// URL');
  }
  const role = get('TRACER_DATABASE_ROLE') ?? 'tracer_app';
  const localHost = get('TRACER_ATTRIBUTION_LOCAL_HOST') ?? hostname();
  const config: AttributionConfig = {
    kafkaBrokers,
    databaseUrl,
    databaseRole: role === 'none' ? null : role,
    databasePoolMax: integer('TRACER_ATTRIBUTION_DB_POOL_MAX', 4, 1, 200),
    httpHost: get('TRACER_ATTRIBUTION_HTTP_HOST') ?? '127.0.0.1',
    port: integer('TRACER_ATTRIBUTION_PORT', DEFAULT_ATTRIBUTION_PORT, 0, 65535),
    groupId: get('TRACER_ATTRIBUTION_GROUP') ?? 'tracer-attribution',
    inputTopic: get('TRACER_ATTRIBUTION_INPUT_TOPIC') ?? topics.normalized,
    outputTopic: get('TRACER_ATTRIBUTION_OUTPUT_TOPIC') ?? topics.tasks,
    topicPartitions: integer('TRACER_ATTRIBUTION_TOPIC_PARTITIONS', 8, 1, 1024),
    concurrency: integer('TRACER_ATTRIBUTION_CONCURRENCY', 2, 1, 64),
    sessionTimeoutMs: integer('TRACER_ATTRIBUTION_SESSION_TIMEOUT_MS', 30_000, 6000, 3_600_000),
    localHost: localHost === 'none' ? null : localHost,
    graceMs: integer('TRACER_ATTRIBUTION_GRACE_MS', 60_000, 0, 86_400_000),
    toolRulesFile: get('TRACER_ATTRIBUTION_TOOL_RULES'),
  };
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
