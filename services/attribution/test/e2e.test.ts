// The must-show, end to end on this host: a whole-host agent writes to Kafka, the ingest
// raw consumer publishes normalized events, the attribution service writes the database, while
// `tracer run -- snakemake -c2` runs a real workflow. The database ends with a Snakemake run
// whose steps, tasks (names, statuses, exit codes) and tools equal the tree `tracer run`
// printed and `tracer trace tree --json` makes of its own trace.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConsumerConfig } from '../../ingest/src/config.ts';
import { type RunningConsumer, startConsumer } from '../../ingest/src/consumer/server.ts';
import type { RunningAttribution } from '../src/service/server.ts';
import {
  type AttributionEnv,
  attributionEnv,
  changesOf,
  eventually,
  quietLogger,
  readTopic,
  runService,
  uniqueName,
  uniqueTenant,
} from './helpers.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const TRACER = join(REPO, 'tracer');
const WORKFLOWS = fileURLToPath(new URL('./workflows/', import.meta.url));
const have = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

interface TreeJson {
  runs: Array<{
    id: string;
    pipeline: string;
    name: string;
    engine: string;
    status: string;
    exitCode: number | null;
    attributes: Record<string, string>;
    steps: Array<{
      name: string;
      status: string;
      tasks: Array<{
        id: string;
        name: string;
        status: string;
        exitCode: number | null;
        tools: Array<{ name: string }>;
      }>;
    }>;
  }>;
}

/** A run as a comparable outline: steps, their tasks and the tools each ran. */
function outline(run: TreeJson['runs'][number]) {
  return {
    pipeline: run.pipeline,
    name: run.name,
    engine: run.engine,
    status: run.status,
    exitCode: run.exitCode,
    steps: run.steps
      .map((s) => ({
        name: s.name,
        status: s.status,
        tasks: s.tasks
          .map((t) => ({
            name: t.name,
            status: t.status,
            exitCode: t.exitCode,
            tools: [...new Set(t.tools.map((x) => x.name))].sort(),
          }))
          .sort((a, b) => a.name.localeCompare(b.name)),
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

describe('agent, ingest and attribution on this host', {
  skip: (!have('snakemake') || !have('bwa') || !have('samtools')) && 'needs snakemake, bwa and samtools',
}, () => {
  let env: AttributionEnv;
  let ingest: RunningConsumer;
  let service: RunningAttribution;
  let agent: ChildProcess;
  let dir: string;
  const tenant = uniqueTenant('e2e');

  before(async () => {
    const rawTopic = uniqueName('e2e.raw');
    env = await attributionEnv('attr-e2e', { TRACER_ATTRIBUTION_LOCAL_HOST: hostname() });
    ingest = await startConsumer(
      loadConsumerConfig({
        ...env.env,
        TRACER_INGEST_RAW_TOPIC: rawTopic,
        TRACER_INGEST_NORMALIZED_TOPIC: env.config.inputTopic,
        TRACER_INGEST_CONSUMER_GROUP: uniqueName('e2e.ingest'),
        TRACER_INGEST_TOPIC_PARTITIONS: String(env.config.topicPartitions),
        TRACER_INGEST_CONSUMER_PORT: '0',
      }),
      quietLogger('ingest-e2e'),
    );
    await ingest.consumer.runner.ready;
    service = await runService(env);
    dir = mkdtempSync(join(tmpdir(), 'attribution-e2e-'));
    const spool = join(dir, 'spool');
    agent = spawn(
      TRACER,
      [
        'agent',
        'start',
        '--sink',
        'kafka',
        '--tenant',
        tenant,
        '--brokers',
        env.config.kafkaBrokers.join(','),
        '--topic',
        rawTopic,
        '--spool-dir',
        spool,
      ],
      {
        env: { ...process.env, TRACER_AGENT_FLUSH_MS: '200', TRACER_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    await eventually('the agent to run', () => {
      try {
        return JSON.parse(readFileSync(join(spool, 'status.json'), 'utf8')).state === 'running' || undefined;
      } catch {
        return undefined;
      }
    });
  });
  after(async () => {
    if (agent && agent.exitCode === null) {
      agent.kill('SIGTERM');
      await once(agent, 'exit');
    }
    await service?.close();
    await ingest?.close();
    await env?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('`tracer run -- snakemake -c2`: the database holds the tree tracer run printed', {
    timeout: 300_000,
  }, async (t) => {
    const work = join(dir, 'smk');
    mkdirSync(work);
    cpSync(join(WORKFLOWS, 'snakemake/Snakefile'), join(work, 'Snakefile'));
    const data = spawnSync('sh', [join(WORKFLOWS, 'snakemake/make-data.sh'), work, '1'], { encoding: 'utf8' });
    assert.equal(data.status, 0, data.stderr);
    const trace = join(dir, 'trace.jsonl');
    const toolEnv = { ...process.env, TRACER_LOG_LEVEL: 'warn', TRACER_DATA_DIR: join(dir, 'data') };
    const run = spawnSync(TRACER, ['run', '--out', trace, '--', 'snakemake', '-c2'], {
      cwd: work,
      encoding: 'utf8',
      env: toolEnv,
      timeout: 200_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    assert.equal(run.status, 0, run.stderr);
    const treeRun = spawnSync(TRACER, ['trace', 'tree', '--json', trace], { encoding: 'utf8', env: toolEnv });
    assert.equal(treeRun.status, 0, treeRun.stderr);
    const tree = JSON.parse(treeRun.stdout) as TreeJson;
    assert.equal(tree.runs.length, 1);
    const want = tree.runs[0]!;
    // What tracer run printed (on stderr; stdout is the command's) names the same tasks.
    for (const task of want.steps.flatMap((s) => s.tasks)) assert.ok(run.stderr.includes(task.name), task.name);

    // Other work on this host (other tests run Snakemake too) is in the database as well:
    // this run is the one in this workflow's folder.
    const q = (sql: string, args: unknown[]) => env.db.pool.query(sql, args).then((r) => r.rows);
    const dbRun = await eventually(
      'the run ended in the database with all its tasks',
      async () => {
        const [r] = await q(`SELECT * FROM runs WHERE tenant_id = $1 AND record->'attributes'->>'workdir' = $2`, [
          tenant,
          work,
        ]);
        if (!r || r.status === 'running') return undefined;
        const tasks = await q('SELECT status FROM tasks WHERE tenant_id = $1 AND run_id = $2', [tenant, r.id]);
        const expected = want.steps.reduce((n, s) => n + s.tasks.length, 0);
        return tasks.length === expected && tasks.every((x) => x.status !== 'running') ? r : undefined;
      },
      120_000,
    );
    const steps = await q('SELECT * FROM steps WHERE tenant_id = $1 AND run_id = $2', [tenant, dbRun.id]);
    const tasks = await q('SELECT * FROM tasks WHERE tenant_id = $1 AND run_id = $2', [tenant, dbRun.id]);
    const tools = await q('SELECT * FROM tool_executions WHERE tenant_id = $1 AND run_id = $2', [tenant, dbRun.id]);
    const fromDb: TreeJson['runs'][number] = {
      id: dbRun.id,
      pipeline: dbRun.pipeline,
      name: dbRun.name,
      engine: dbRun.engine,
      status: dbRun.status,
      exitCode: dbRun.exit_code,
      attributes: dbRun.record.attributes,
      steps: steps.map((s) => ({
        name: s.name,
        status: s.status,
        tasks: tasks
          .filter((x) => x.step_id === s.id)
          .map((x) => ({
            id: x.id,
            name: x.name,
            status: x.status,
            exitCode: x.exit_code,
            tools: tools.filter((y) => y.task_id === x.id).map((y) => ({ name: y.name })),
          })),
      })),
    };
    t.diagnostic(
      `database: ${fromDb.engine} run ${fromDb.pipeline} ${fromDb.status}, ${steps.length} steps, ${tasks.length} tasks, ${tools.length} tool executions`,
    );
    assert.deepEqual(outline(fromDb), outline(want));
    // tasks.v1 told it live: the run `running` first, then how it ended.
    const published = changesOf(
      await readTopic(env.bus, env.config.outputTopic, (ms) =>
        changesOf(ms).some((c) => c.entity === 'run' && c.record.id === dbRun.id && c.record.status !== 'running'),
      ),
    );
    const statesOf = (id: string) => published.filter((c) => c.record.id === id).map((c) => c.record.status);
    assert.deepEqual([statesOf(dbRun.id)[0], statesOf(dbRun.id).at(-1)], ['running', want.status]);
    // A task shorter than one agent batch (200 ms here) is first published ended.
    for (const task of tasks) assert.equal(statesOf(task.id).at(-1), task.status, task.name);
    const seenRunning = tasks.filter((x) => statesOf(x.id)[0] === 'running').map((x) => x.name);
    t.diagnostic(`tasks published running before they ended: ${seenRunning.join(', ') || 'none'}`);
    // The service's own view: ready, and what a whole host costs it.
    assert.equal((await fetch(`${service.url}/readyz`)).status, 200);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    const metric = (name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(metrics)?.[1]);
    const applied = /tracer_attribution_events_total\{outcome="applied"\} (\S+)/.exec(metrics)?.[1];
    t.diagnostic(
      `whole host: ${applied} events applied in ${metric('tracer_attribution_batch_seconds_count')} batches, ` +
        `${(metric('tracer_attribution_batch_seconds_sum') * 1000).toFixed(0)} ms in batches, ` +
        `last snapshot ${metric('tracer_attribution_state_bytes')} bytes`,
    );
    assert.equal(fromDb.id, want.id, 'the same run id (upid of the snakemake process) from both agents');
  });
});
