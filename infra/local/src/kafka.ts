// Apache Kafka 3.9 in KRaft mode, one node acting as broker and controller, run on the JVM
// from the Maven Central jars install.sh puts in .tools/kafka/libs (no tarball, no Docker).
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { StackPaths } from './paths.ts';
import { ensureDirs, repoRoot } from './paths.ts';
import { assertPortFree } from './ports.ts';
import {
  isAlive,
  ownedOrStatus,
  ownedPid,
  readPid,
  run,
  spawnDetached,
  tail,
  terminate,
  waitUntil,
} from './processes.ts';
import { type LocalServer, type Progress, type ServerStatus, StackError } from './server.ts';

export interface KafkaOptions {
  paths: StackPaths;
  port: number;
  controllerPort: number;
  /** JVM heap ceiling (TRACER_KAFKA_HEAP, e.g. 1g); one dev node is happy in 512 MiB. */
  heap?: string;
  /** Folder of the broker's jars (TRACER_KAFKA_LIBS overrides). */
  libsDir?: string;
}

/** Topic whose creation proves the controller and broker both work (a port can open well before that). */
export const readinessTopic = '_tracer.ready';

function admin(port: number) {
  return new Kafka({
    clientId: 'tracer-stack',
    brokers: [`127.0.0.1:${port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  }).admin();
}

/** A real admin round trip (describeCluster); false instead of throwing. */
export async function describeKafka(port: number): Promise<boolean> {
  const client = admin(port);
  try {
    await client.connect();
    const cluster = await client.describeCluster();
    return cluster.brokers.length > 0;
  } catch {
    return false;
  } finally {
    await client.disconnect().catch(() => {});
  }
}

/** Creates (once) and looks up a topic: true when a partition leader serves it. */
async function provisionReadinessTopic(port: number): Promise<boolean> {
  const client = admin(port);
  try {
    await client.connect();
    await client.createTopics({ topics: [{ topic: readinessTopic, numPartitions: 1 }], waitForLeaders: true });
    const meta = await client.fetchTopicMetadata({ topics: [readinessTopic] });
    return meta.topics[0]?.partitions[0]?.leader === 1;
  } catch {
    return false;
  } finally {
    await client.disconnect().catch(() => {});
  }
}

/** Kafka's cluster id format: 16 random bytes, base64url without padding; never starting with '-'. */
function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

export function createKafka({
  paths,
  port,
  controllerPort,
  heap = process.env.TRACER_KAFKA_HEAP || '512m',
  libsDir = process.env.TRACER_KAFKA_LIBS || join(repoRoot, '.tools/kafka/libs'),
}: KafkaOptions): LocalServer {
  const dataDir = join(paths.data, 'kafka');
  const confDir = join(paths.conf, 'kafka');
  const serverConf = join(confDir, 'server.properties');
  const log4jConf = join(confDir, 'log4j.properties');
  const pidFile = join(paths.run, 'kafka.pid');
  const logFile = join(paths.log, 'kafka.log');
  const outFile = join(paths.log, 'kafka.out');
  const address = `127.0.0.1:${port}`;
  const java = process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin/java') : 'java';
  const jvmArgs = [
    `-Xmx${heap}`,
    '-Xms128m',
    ...['-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'],
    `-Dlog4j.configuration=file:${log4jConf}`,
    `-Dkafka.logs.dir=${paths.log}`,
    ...['-cp', `${libsDir}/*`],
  ];

  function writeConfig(): void {
    ensureDirs(confDir);
    const server = {
      'process.roles': 'broker,controller',
      'node.id': 1,
      'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
      listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
      'controller.listener.names': 'CONTROLLER',
      'inter.broker.listener.name': 'PLAINTEXT',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': dataDir,
      // One node: every replication factor is 1 and one in-sync replica is enough.
      'num.partitions': 1,
      'default.replication.factor': 1,
      'min.insync.replicas': 1,
      'offsets.topic.replication.factor': 1,
      'transaction.state.log.replication.factor': 1,
      'transaction.state.log.min.isr': 1,
      // Fewer internal partitions make the first consumer group and transaction fast on a laptop.
      'offsets.topic.num.partitions': 8,
      'transaction.state.log.num.partitions': 4,
      'group.initial.rebalance.delay.ms': 0,
      // Topics are provisioned explicitly (packages/bus); a typo must not create a topic.
      'auto.create.topics.enable': false,
      'num.network.threads': 2,
      'num.io.threads': 4,
    };
    writeFileSync(
      serverConf,
      `# Written by tracer (infra/local/src/kafka.ts) on each start; edits are overwritten.\n${Object.entries(server)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
    );
    writeFileSync(
      log4jConf,
      [
        '# Written by tracer on each start. The file gets INFO; the console (kafka.out) only warnings.',
        'log4j.rootLogger=INFO, file, stdout',
        'log4j.appender.file=org.apache.log4j.RollingFileAppender',
        `log4j.appender.file.File=${logFile}`,
        'log4j.appender.file.MaxFileSize=10MB',
        'log4j.appender.file.MaxBackupIndex=3',
        'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
        'log4j.appender.stdout.Threshold=WARN',
        'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
        'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
        'log4j.logger.state.change.logger=WARN',
        'log4j.logger.kafka.request.logger=WARN',
        'log4j.logger.org.apache.kafka.metadata=WARN',
        'log4j.logger.org.apache.kafka.controller=WARN',
        '',
      ].join('\n'),
    );
  }

  /** First start only: KRaft storage needs a cluster id, which meta.properties then keeps. */
  async function formatStorage(progress: Progress): Promise<void> {
    progress('kafka: formatting KRaft storage (first start only)');
    const res = await run(
      java,
      [...jvmArgs, 'kafka.tools.StorageTool', 'format', '-t', newClusterId(), '-c', serverConf, '--ignore-formatted'],
      { cwd: dataDir },
    );
    if (res.code !== 0) {
      throw new StackError(
        `kafka: storage format failed (exit ${res.code}):\n${res.output}\nFix the cause, remove ${dataDir} and run ./tracer up again.`,
      );
    }
  }

  return {
    name: 'kafka',
    address,
    logFile,
    ports: [
      { port, envVar: 'TRACER_KAFKA_PORT' },
      { port: controllerPort, envVar: 'TRACER_KAFKA_CONTROLLER_PORT' },
    ],

    async status(): Promise<ServerStatus> {
      const { pid, status } = ownedOrStatus(
        pidFile,
        dataDir,
        `exited without being stopped; see ${logFile} and ${outFile}`,
      );
      if (status) return status;
      if (await describeKafka(port)) return { state: 'running', pid };
      return {
        state: 'failed',
        pid,
        reason: `pid ${pid} does not answer describeCluster on ${address}; see ${logFile}`,
      };
    },

    async start(progress: Progress): Promise<void> {
      if (!existsSync(libsDir) || readdirSync(libsDir).length === 0) {
        throw new StackError(`kafka: no jars in ${libsDir}; fetch them with: bash infra/local/install.sh`);
      }
      ensureDirs(dataDir, paths.run, paths.log);
      rmSync(pidFile, { force: true });
      await assertPortFree('kafka', port, 'TRACER_KAFKA_PORT');
      await assertPortFree('kafka (controller)', controllerPort, 'TRACER_KAFKA_CONTROLLER_PORT');
      writeConfig();
      if (!existsSync(join(dataDir, 'meta.properties'))) await formatStorage(progress);
      progress(`kafka: starting the JVM on ${address} (controller ${controllerPort})`);
      const pid = await spawnDetached(java, [...jvmArgs, 'kafka.Kafka', serverConf], { cwd: dataDir, outFile });
      writeFileSync(pidFile, `${pid}\n`);
    },

    async waitReady(progress: Progress, timeoutMs: number): Promise<void> {
      let exited = false;
      const ok = await waitUntil(
        async () => {
          const pid = readPid(pidFile);
          if (pid === undefined || !isAlive(pid)) {
            exited = true;
            return true;
          }
          return provisionReadinessTopic(port);
        },
        { timeoutMs, intervalMs: 500, onWait: (s) => progress(`kafka: still waiting for the broker (${s}s)`) },
      );
      if (exited) {
        throw new StackError(`kafka: the JVM exited during start-up. See ${logFile} and ${outFile}:\n${tail(outFile)}`);
      }
      if (!ok) {
        throw new StackError(
          `kafka: no admin answer from ${address} after ${timeoutMs / 1000}s. See ${logFile}:\n${tail(logFile)}`,
        );
      }
    },

    async stop(progress: Progress): Promise<void> {
      const pid = ownedPid(pidFile, dataDir);
      if (pid !== undefined) {
        progress('kafka: stopping (controlled shutdown)');
        await terminate(pid, 60_000);
      }
      rmSync(pidFile, { force: true });
    },
  };
}
