// `tracer agent start` configuration: defaults, then a JSON file, then TRACER_* environment
// variables, then command-line flags, each later source winning. Validated once at start: a
// bad value stops the agent with a message naming the setting and where it came from.
import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { topics } from '@tracer/events';
import { dataDir } from '../adapters/trace-store.ts';

export type SinkKind = 'kafka' | 'gateway';

export interface AgentConfig {
  sink: SinkKind;
  /** Tenant stamped on events (Kafka sink); with the gateway the API key decides. */
  tenant: string;
  host: string;
  kafkaBrokers: string[];
  kafkaTopic: string;
  gatewayUrl: string;
  apiKey: string;
  spoolDir: string;
  spoolMaxBytes: number;
  sampleIntervalMs: number;
  /** A batch is cut at this many events or batchMaxBytes (uncompressed), or after flushIntervalMs. */
  batchMaxEvents: number;
  batchMaxBytes: number;
  flushIntervalMs: number;
  /** agent.stats events: what was sent, dropped, evicted, spooled. */
  statsIntervalMs: number;
}

export class AgentConfigError extends Error {
  override name = 'AgentConfigError';
}

/** Settings as they arrive, before validation: flags and file values are strings or numbers. */
export type RawSettings = Partial<Record<keyof AgentConfig | 'apiKeyFile', string | number | string[] | undefined>>;

const ENV: Record<keyof AgentConfig | 'apiKeyFile', string> = {
  sink: 'TRACER_AGENT_SINK',
  tenant: 'TRACER_AGENT_TENANT',
  host: 'TRACER_AGENT_HOST',
  kafkaBrokers: 'TRACER_KAFKA_BROKERS',
  kafkaTopic: 'TRACER_AGENT_TOPIC',
  gatewayUrl: 'TRACER_AGENT_GATEWAY_URL',
  apiKey: 'TRACER_AGENT_API_KEY',
  apiKeyFile: 'TRACER_AGENT_API_KEY_FILE',
  spoolDir: 'TRACER_AGENT_SPOOL_DIR',
  spoolMaxBytes: 'TRACER_AGENT_SPOOL_MAX_BYTES',
  sampleIntervalMs: 'TRACER_AGENT_SAMPLE_INTERVAL_MS',
  batchMaxEvents: 'TRACER_AGENT_BATCH_EVENTS',
  batchMaxBytes: 'TRACER_AGENT_BATCH_BYTES',
  flushIntervalMs: 'TRACER_AGENT_FLUSH_MS',
  statsIntervalMs: 'TRACER_AGENT_STATS_INTERVAL_MS',
};

/** The variables read, for --help. */
export const agentEnvironment = ENV;

const TENANT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function loadAgentConfig(
  options: {
    file?: string;
    env?: NodeJS.ProcessEnv;
    flags?: RawSettings;
    /** How the caller spells each flag, for messages (default: --kebab-case of the setting). */
    flagNames?: Partial<Record<keyof RawSettings, string>>;
  } = {},
): AgentConfig {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  const sources: Record<string, string> = {};
  const merged: RawSettings = {};
  const file = options.file ?? env.TRACER_AGENT_CONFIG;
  if (file !== undefined && file !== '') {
    if (!existsSync(file)) throw new AgentConfigError(`config file ${file} does not exist`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new AgentConfigError(`config file ${file} is not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new AgentConfigError(`config file ${file} must hold a JSON object`);
    }
    for (const [k, v] of Object.entries(parsed)) {
      if (!(k in ENV)) problems.push(`${k} (${file}): unknown setting; known: ${Object.keys(ENV).join(', ')}`);
      else {
        merged[k as keyof RawSettings] = v as string;
        sources[k] = file;
      }
    }
  }
  for (const [k, name] of Object.entries(ENV)) {
    const v = env[name];
    if (v !== undefined && v !== '') {
      merged[k as keyof RawSettings] = v;
      sources[k] = name;
    }
  }
  for (const [k, v] of Object.entries(options.flags ?? {})) {
    if (v !== undefined) {
      merged[k as keyof RawSettings] = v;
      sources[k] =
        options.flagNames?.[k as keyof RawSettings] ?? `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    }
  }
  const where = (k: string) => sources[k] ?? 'default';
  const str = (k: keyof RawSettings, fallback: string) => {
    const v = merged[k];
    return v === undefined ? fallback : Array.isArray(v) ? v.join(',') : String(v).trim();
  };
  const int = (k: keyof RawSettings, fallback: number, min: number, max: number) => {
    const v = merged[k];
    if (v === undefined) return fallback;
    const n = typeof v === 'number' ? v : Number(String(v).trim().replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${k} (${where(k)}): expected an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
      return fallback;
    }
    return n;
  };

  const sink = str('sink', merged.gatewayUrl !== undefined ? 'gateway' : 'kafka');
  if (sink !== 'kafka' && sink !== 'gateway')
    problems.push(`sink (${where('sink')}): expected kafka or gateway, got ${JSON.stringify(sink)}`);
  const tenant = str('tenant', env.TRACER_TENANT || 'local');
  if (!TENANT.test(tenant))
    problems.push(
      `tenant (${where('tenant')}): ${JSON.stringify(tenant)} is not a tenant id ([A-Za-z0-9._-], 128 at most)`,
    );
  const host = str('host', hostname());
  if (host === '' || host.length > 255) problems.push(`host (${where('host')}): must be 1 to 255 characters`);
  const kafkaBrokers = str('kafkaBrokers', '127.0.0.1:19092')
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  if (sink === 'kafka' && (kafkaBrokers.length === 0 || kafkaBrokers.some((b) => !/^[^\s:/]+:\d{1,5}$/.test(b)))) {
    problems.push(`kafkaBrokers (${where('kafkaBrokers')}): expected host:port[,host:port...]`);
  }
  const gatewayUrl = str('gatewayUrl', '');
  let apiKey = str('apiKey', '');
  const apiKeyFile = str('apiKeyFile', '');
  if (apiKeyFile !== '') {
    try {
      apiKey = readFileSync(apiKeyFile, 'utf8').trim();
    } catch (err) {
      problems.push(`apiKeyFile (${where('apiKeyFile')}): ${(err as Error).message}`);
    }
  }
  if (sink === 'gateway') {
    try {
      const u = new URL(gatewayUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error(`protocol ${u.protocol}`);
    } catch (err) {
      problems.push(
        `gatewayUrl (${where('gatewayUrl')}): expected an http(s) URL, got ${JSON.stringify(gatewayUrl)} (${(err as Error).message})`,
      );
    }
    if (!/^trk_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/.test(apiKey)) {
      problems.push(
        `apiKey (${where(apiKeyFile ? 'apiKeyFile' : 'apiKey')}): the gateway sink needs an API key (trk_...; tracer keys create)`,
      );
    }
  }
  const config: AgentConfig = {
    sink: sink as SinkKind,
    tenant,
    host,
    kafkaBrokers,
    kafkaTopic: str('kafkaTopic', topics.raw),
    gatewayUrl,
    apiKey,
    spoolDir: str('spoolDir', join(dataDir(env), 'agent')),
    spoolMaxBytes: int('spoolMaxBytes', 1024 * 1024 * 1024, 256 * 1024, 1024 ** 4),
    sampleIntervalMs: int('sampleIntervalMs', 1000, 50, 3_600_000),
    batchMaxEvents: int('batchMaxEvents', 2000, 1, 100_000),
    batchMaxBytes: int('batchMaxBytes', 900 * 1024, 4096, 8 * 1024 * 1024),
    flushIntervalMs: int('flushIntervalMs', 500, 10, 600_000),
    statsIntervalMs: int('statsIntervalMs', 30_000, 100, 86_400_000),
  };
  if (problems.length > 0) throw new AgentConfigError(`invalid agent configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

/** The configuration with the API key hidden, for logs and `tracer agent start --print-config`. */
export function redactedConfig(config: AgentConfig): Record<string, unknown> {
  return { ...config, apiKey: config.apiKey ? `${config.apiKey.slice(0, 17)}…` : '' };
}
