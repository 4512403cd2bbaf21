// Throughput of the insights service on the real local stack against its own core in the
// same run (the baseline): a synthetic host stream (short tools with samples and output, one
// in twenty failing, host samples), folded by stepHost alone, then published to Kafka for H
// hosts and consumed by the service (snapshot load/save, insights upsert and publish per host
// and batch) until the group has committed everything.
//
//   cd services/insights && node bench/service-throughput.ts [events per host] [hosts]
import { serialize } from 'node:v8';
import type { TelemetryEvent } from '@tracer/events';
import { createHostStream, stepHost } from '../src/core/host-stream.ts';
import { drained, eventually, insightsEnv, publishEvents, runService } from '../test/service-helpers.ts';
import { traceBuilder } from '../test/trace-builder.ts';

const perHost = Number(process.argv[2] ?? 20_000);
const hostCount = Number(process.argv[3] ?? 4);
const RECORD_EVENTS = 500;

function hostStream(events: number): TelemetryEvent[] {
  const t = traceBuilder();
  t.at(0).hostInfo(8, 32e9);
  for (let k = 0; t.events.length < events; k++) {
    const s = k * 2;
    const pid = 1000 + (k % 30000);
    const fails = k % 20 === 19;
    t.at(s).exec(pid, ['tool', '-i', `in-${k}.fq`]);
    for (let j = 1; j <= 3; j++) t.at(s + j * 0.4).sample(pid, { cpuS: j * 0.3, readBytes: j * 1e6 });
    t.at(s + 1.3).log(pid, `processed ${k} reads\n`, 'stdout');
    if (fails) t.log(pid, `Error: cannot open in-${k}.fq: No such file or directory\n`);
    t.at(s + 1.5).exit(pid, { code: fails ? 1 : 0 });
    if (k % 10 === 0) t.host({ busy: 0.4 });
  }
  return t.events.slice(0, events);
}

const stream = hostStream(perHost);

// Baseline: the core alone, in the records' batches.
const state = createHostStream();
const options = { forgetAfterNs: 2 * 3600e9, stallClockNs: 60e9 };
const insightIds = new Set<string>();
const coreStart = performance.now();
for (let i = 0; i < stream.length; i += RECORD_EVENTS)
  for (const i2 of stepHost(state, { events: stream.slice(i, i + RECORD_EVENTS) }, options).insights)
    insightIds.add(i2.id);
const coreMs = performance.now() - coreStart;
const serializeStart = performance.now();
const snapshot = serialize(state);
const serializeMs = performance.now() - serializeStart;

// The service: hostCount hosts, each the same stream.
const env = await insightsEnv('bench', { topicPartitions: 4, concurrency: 2 });
const service = await runService(env);
const hosts = Array.from({ length: hostCount }, (_, h) => `bench-host-${h}`);
const serviceStart = performance.now();
await Promise.all(
  hosts.map((host) =>
    publishEvents(
      { ...env, host },
      stream.map((e) => ({ ...e, tenant: env.tenant, host })),
      RECORD_EVENTS,
    ),
  ),
);
await eventually('everything consumed', () => drained(env.bus, env.config.groupId, env.config.telemetryTopic), 600_000);
const serviceMs = performance.now() - serviceStart;
const { rows } = await env.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM insights WHERE tenant_id = $1', [
  env.tenant,
]);
await service.close();
await env.close();

const coreRate = stream.length / (coreMs / 1000);
const serviceRate = (stream.length * hostCount) / (serviceMs / 1000);
console.log(
  JSON.stringify(
    {
      eventsPerHost: stream.length,
      hosts: hostCount,
      core: {
        eventsPerSecond: Math.round(coreRate),
        insights: insightIds.size,
        processesHeld: state.engine.processes.size,
        snapshotBytes: snapshot.length,
        serializeMs: Math.round(serializeMs * 10) / 10,
      },
      service: {
        eventsPerSecond: Math.round(serviceRate),
        insightRows: Number(rows[0]!.n),
        expectedRows: insightIds.size * hostCount,
        seconds: Math.round(serviceMs) / 1000,
      },
      serviceOverCore: Math.round((serviceRate / coreRate) * 100) / 100,
    },
    null,
    2,
  ),
);
// Every problem the core saw is one row per host, whatever the batching.
if (Number(rows[0]!.n) !== insightIds.size * hostCount) process.exitCode = 1;
