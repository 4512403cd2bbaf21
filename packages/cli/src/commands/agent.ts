// `tracer agent start` and `tracer agent status`: the host agent as a daemon that ships to
// Kafka or to the ingest gateway through an on-disk spool (agents/tracer-agent/src/daemon).
import { type Command, InvalidArgumentError } from 'commander';

const positiveInt = (raw: string) => {
  const n = Number(raw.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

interface StartOptions {
  config?: string;
  sink?: string;
  tenant?: string;
  host?: string;
  brokers?: string;
  topic?: string;
  gateway?: string;
  apiKeyFile?: string;
  spoolDir?: string;
  spoolMaxBytes?: number;
  sampleInterval?: number;
  batchEvents?: number;
  flushInterval?: number;
  statsInterval?: number;
  printConfig?: boolean;
}

export function registerAgentCommands(program: Command): void {
  const agent = program.command('agent').description('run the host agent as a daemon (Kafka or ingest gateway sink)');

  agent
    .command('start')
    .description(
      'trace this host and ship its events; runs in the foreground until SIGTERM/SIGINT (systemd, tracer up)',
    )
    .option('-c, --config <file>', 'JSON config file (keys as the long options in camelCase, e.g. "gatewayUrl")')
    .option('--sink <kind>', 'kafka (self-hosted) or gateway (SaaS, needs an API key)')
    .option('--tenant <id>', 'tenant stamped on events (Kafka sink; with the gateway the key decides)')
    .option('--host <name>', 'host name on events (default: hostname)')
    .option('--brokers <list>', 'Kafka brokers host:port[,host:port] (Kafka sink)')
    .option('--topic <name>', 'Kafka topic (default telemetry.raw.v1)')
    .option('--gateway <url>', 'ingest gateway base URL, e.g. https://ingest.example.com (gateway sink)')
    .option('--api-key-file <file>', 'file holding the API key (tracer keys create --scope ingest)')
    .option('--spool-dir <dir>', 'where batches wait for the sink (default $TRACER_DATA_DIR/agent)')
    .option(
      '--spool-max-bytes <n>',
      'spool size bound; oldest batches are evicted (and counted) beyond it',
      positiveInt,
    )
    .option('--sample-interval <ms>', 'process and host samples interval', positiveInt)
    .option('--batch-events <n>', 'events per batch at most', positiveInt)
    .option('--flush-interval <ms>', 'a batch is cut after this long at most', positiveInt)
    .option('--stats-interval <ms>', 'agent.stats interval', positiveInt)
    .option('--print-config', 'print the effective configuration (key hidden) and exit')
    .addHelpText(
      'after',
      `
Settings come from defaults, then the config file, then the environment, then these flags.
Environment: TRACER_AGENT_CONFIG, TRACER_AGENT_SINK, TRACER_AGENT_TENANT, TRACER_AGENT_HOST,
  TRACER_KAFKA_BROKERS, TRACER_AGENT_TOPIC, TRACER_AGENT_GATEWAY_URL, TRACER_AGENT_API_KEY,
  TRACER_AGENT_API_KEY_FILE, TRACER_AGENT_SPOOL_DIR, TRACER_AGENT_SPOOL_MAX_BYTES,
  TRACER_AGENT_SAMPLE_INTERVAL_MS, TRACER_AGENT_BATCH_EVENTS, TRACER_AGENT_BATCH_BYTES,
  TRACER_AGENT_FLUSH_MS, TRACER_AGENT_STATS_INTERVAL_MS, TRACER_AGENT_MODE (bpf|proc|auto).

Examples:
  tracer agent start --sink kafka --tenant acme --brokers 127.0.0.1:19092
  tracer agent start --gateway https://ingest.example.com --api-key-file /etc/tracer/agent.key`,
    )
    .action(async (opts: StartOptions) => {
      const { AgentConfigError, loadAgentConfig, redactedConfig, startAgentDaemon } = await import(
        '@tracer/tracer-agent/daemon'
      );
      let config: ReturnType<typeof loadAgentConfig>;
      try {
        config = loadAgentConfig({
          ...(opts.config !== undefined ? { file: opts.config } : {}),
          flags: {
            sink: opts.sink,
            tenant: opts.tenant,
            host: opts.host,
            kafkaBrokers: opts.brokers,
            kafkaTopic: opts.topic,
            gatewayUrl: opts.gateway,
            apiKeyFile: opts.apiKeyFile,
            spoolDir: opts.spoolDir,
            spoolMaxBytes: opts.spoolMaxBytes,
            sampleIntervalMs: opts.sampleInterval,
            batchMaxEvents: opts.batchEvents,
            flushIntervalMs: opts.flushInterval,
            statsIntervalMs: opts.statsInterval,
          },
          flagNames: {
            kafkaBrokers: '--brokers',
            kafkaTopic: '--topic',
            gatewayUrl: '--gateway',
            sampleIntervalMs: '--sample-interval',
            batchMaxEvents: '--batch-events',
            flushIntervalMs: '--flush-interval',
            statsIntervalMs: '--stats-interval',
          },
        });
      } catch (err) {
        if (!(err instanceof AgentConfigError)) throw err;
        process.stderr.write(`tracer agent: ${err.message}\n`);
        process.exitCode = 2;
        return;
      }
      if (opts.printConfig) {
        process.stdout.write(`${JSON.stringify(redactedConfig(config), null, 2)}\n`);
        return;
      }
      const { createLogger } = await import('@tracer/log');
      const log = createLogger('agent');
      let running: Awaited<ReturnType<typeof startAgentDaemon>>;
      try {
        running = await startAgentDaemon(config, log);
      } catch (err) {
        process.stderr.write(`tracer agent: could not start: ${(err as Error).message}\n`);
        process.exitCode = 1;
        return;
      }
      const stop = (signal: NodeJS.Signals) => {
        log.info({ signal }, 'stopping');
        running.stop().catch((err: Error) => {
          log.error({ err }, 'stop failed');
          process.exitCode = 1;
        });
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });

  agent
    .command('status')
    .description("print the agent's last status (status.json in its spool folder); exit 0 only if it runs")
    .option('--spool-dir <dir>', 'the agent spool folder (default $TRACER_DATA_DIR/agent)')
    .option('--json', 'print the status file as is')
    .action(async (opts: { spoolDir?: string; json?: boolean }) => {
      const { readFileSync } = await import('node:fs');
      const { join } = await import('node:path');
      const { dataDir } = await import('@tracer/tracer-agent');
      const { statusFile } = await import('@tracer/tracer-agent/daemon');
      const path = statusFile(opts.spoolDir ?? process.env.TRACER_AGENT_SPOOL_DIR ?? join(dataDir(), 'agent'));
      let status: import('@tracer/tracer-agent/daemon').AgentStatus;
      try {
        status = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        process.stdout.write(`agent stopped (no status at ${path})\n`);
        process.exitCode = 1;
        return;
      }
      const alive = (() => {
        try {
          process.kill(status.pid, 0);
          return true;
        } catch {
          return false;
        }
      })();
      const running = status.state === 'running' && alive && Date.now() - Date.parse(status.updatedAt) < 30_000;
      if (opts.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
      else {
        process.stdout.write(
          `agent ${running ? 'running' : 'stopped'} ${status.sink} (pid ${status.pid}, ${status.mode}${status.fallbackReason ? `: ${status.fallbackReason}` : ''})\n` +
            `  sink ${status.sinkState}${status.sinkError ? `: ${status.sinkError}` : ''}\n` +
            `  sent ${status.sentEvents}, spooled ${status.pendingEvents} (${status.spoolBytes} bytes), evicted ${status.evictedEvents}, refused ${status.rejectedEvents}, dropped kernel ${status.droppedKernel} user ${status.droppedUser}\n`,
        );
      }
      process.exitCode = running ? 0 : 1;
    });
}
