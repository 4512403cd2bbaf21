// The attribution service's environment, read once at start. Every bad variable is named in
// one error; defaults point at the local stack (infra/local), so `tracer up` needs no settings.
import { hostname } from 'node:os';
import { topics } from '@tracer/events';
import { stackAddresses } from '@tracer/local';
import { busAndDatabase, envReader } from '@tracer/service';

export { ConfigError } from '@tracer/service';

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
  const r = envReader(env);
  const localHost = r.str('TRACER_ATTRIBUTION_LOCAL_HOST', hostname());
  const config: AttributionConfig = {
    ...busAndDatabase(r, stackAddresses()),
    databasePoolMax: r.int('TRACER_ATTRIBUTION_DB_POOL_MAX', 4, 1, 200),
    httpHost: r.str('TRACER_ATTRIBUTION_HTTP_HOST', '127.0.0.1'),
    port: r.int('TRACER_ATTRIBUTION_PORT', DEFAULT_ATTRIBUTION_PORT, 0, 65535),
    groupId: r.str('TRACER_ATTRIBUTION_GROUP', 'tracer-attribution'),
    inputTopic: r.str('TRACER_ATTRIBUTION_INPUT_TOPIC', topics.normalized),
    outputTopic: r.str('TRACER_ATTRIBUTION_OUTPUT_TOPIC', topics.tasks),
    topicPartitions: r.int('TRACER_ATTRIBUTION_TOPIC_PARTITIONS', 8, 1, 1024),
    concurrency: r.int('TRACER_ATTRIBUTION_CONCURRENCY', 2, 1, 64),
    sessionTimeoutMs: r.int('TRACER_ATTRIBUTION_SESSION_TIMEOUT_MS', 30_000, 6000, 3_600_000),
    localHost: localHost === 'none' ? null : localHost,
    graceMs: r.int('TRACER_ATTRIBUTION_GRACE_MS', 60_000, 0, 86_400_000),
    toolRulesFile: r.optionalStr('TRACER_ATTRIBUTION_TOOL_RULES'),
  };
  r.done();
  return config;
}
