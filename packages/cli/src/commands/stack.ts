import type { Command } from 'commander';
import { platformLayers, printProgress, printStatus, reportFailure, startPlatform, stopPlatform } from '../platform.ts';

const stdout = (line: string) => process.stdout.write(`${line}\n`);

/** `tracer up`, `tracer down`, `tracer status`: the local platform. */
export function registerStackCommands(program: Command): void {
  program
    .command('up')
    .description(
      'start the platform on this machine (Kafka, PostgreSQL, Redis on loopback, data under .tracer/), ' +
        "apply database migrations, start the ingest gateway, the raw consumer, attribution, insights and this host's agent; " +
        'a no-op for what already runs',
    )
    .addHelpText(
      'after',
      '\nThe ./tracer script installs what is missing first (infra/local/install.sh).\n' +
        'Ports: TRACER_KAFKA_PORT (19092), TRACER_KAFKA_CONTROLLER_PORT (kafka+1), TRACER_POSTGRES_PORT (15432),\n' +
        'TRACER_REDIS_PORT (16379), TRACER_INGEST_PORT (18100), TRACER_INGEST_CONSUMER_PORT (18101),\n' +
        'TRACER_ATTRIBUTION_PORT (18102), TRACER_INSIGHTS_PORT (18103).\n' +
        'The host agent writes to Kafka as tenant TRACER_TENANT (default local). State folder: TRACER_HOME (.tracer/ in the repo).',
    )
    .action(async () => {
      const t0 = Date.now();
      try {
        const { started } = await startPlatform(printProgress);
        const ok = await printStatus(platformLayers(), stdout);
        const what = started.length ? `started ${started.join(', ')}` : 'already running';
        printProgress(`tracer is up (${what}, ${((Date.now() - t0) / 1000).toFixed(1)}s). Stop it with ./tracer down.`);
        process.exitCode = ok ? 0 : 1;
      } catch (err) {
        reportFailure(err);
        const statuses = (await Promise.all(platformLayers().map((l) => l.status()))).flat();
        const running = statuses.filter((r) => r.status.state === 'running');
        if (running.length > 0) {
          const names = running.map((r) => r.server.name).join(', ');
          printProgress(`Still running: ${names} (./tracer status shows them, ./tracer down stops them).`);
        }
        process.exitCode = 1;
      }
    });

  program
    .command('down')
    .description('stop the platform on this machine; its data stays under .tracer/ for the next up')
    .action(async () => {
      try {
        await stopPlatform(printProgress);
        await printStatus(platformLayers(), stdout);
      } catch (err) {
        reportFailure(err);
        process.exitCode = 1;
      }
    });

  program
    .command('status')
    .description('print NAME STATE ADDRESS for each component; exit 0 only if all are running')
    .action(async () => {
      try {
        process.exitCode = (await printStatus(platformLayers(), stdout)) ? 0 : 1;
      } catch (err) {
        reportFailure(err);
        process.exitCode = 1;
      }
    });
}
