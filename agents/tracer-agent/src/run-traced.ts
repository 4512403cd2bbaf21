// `tracer run -- CMD`: trace one command and its descendants with no server. The source
// starts before CMD is spawned so its first exec is seen; events go through the core (filter
// to CMD's subtree, redaction, envelope, validation) into a JSON Lines trace and the process
// table the summary is drawn from. The host agent reuses the same pieces for its subtrees.
import { type StdioOptions, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants } from 'node:fs';
import { hostname } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TelemetryEvent } from '@tracer/events';
import { createLogger } from '@tracer/log';
import { bootWallNs, nowNs } from './adapters/clock.ts';
import { createHostSampler, readHostInfo } from './adapters/host.ts';
import { DEFAULT_SAMPLE_INTERVAL_MS, startProcessSampler } from './adapters/process-sampler.ts';
import { readBootId, readStat } from './adapters/procfs.ts';
import { selectSource } from './adapters/select-source.ts';
import { lockTrace, newTracePath, rotateTraces, tracesDir, tracesKept } from './adapters/trace-store.ts';
import { TraceWriter } from './adapters/trace-writer.ts';
import { createSubtreeFilter } from './core/filter.ts';
import { createRecordPreparer, type RecordPreparer } from './core/prepare.ts';
import { ProcessTable } from './core/process-table.ts';
import type { SourceRecord, SourceStats, TelemetrySource } from './core/source.ts';
import { renderSummary } from './core/summary.ts';
import { labelTool } from './core/tool-label.ts';
import { signalNumber } from './core/units.ts';
import { bootIdPrefix, makeUpid, NS_PER_TICK, upidMatchesStartTicks } from './core/upid.ts';

const log = createLogger('run-traced');

export interface RunTracedOptions {
  command: string[];
  pipeline?: string;
  run?: string;
  /** Trace file; default: a new file in the data folder's traces/, older ones rotated. */
  out?: string;
  sampleIntervalMs?: number;
  /** Environment for CMD and for our own settings (TRACER_*). Default: process.env. */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  stdio?: StdioOptions;
  /** Forward SIGINT, SIGTERM and SIGHUP received by this process to CMD. Default true. */
  forwardSignals?: boolean;
  /** Where the summary goes; default stderr. */
  printSummary?: (text: string) => void;
  /**
   * Runs once capture has ended, over the trace written so far (the CLI passes the
   * attribution and insights cores): its records are appended before the closing
   * agent.stats, and its text replaces the summary's simple failures list and table.
   */
  analyze?: (tracePath: string) => Promise<{ records: SourceRecord[]; text: string }>;
}

export interface RunTracedResult {
  /** What `tracer run` exits with: CMD's code, 128 + signal when a signal ended it. */
  status: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Set when CMD could not be started (ENOENT, EACCES). */
  spawnError?: string;
  tracePath: string;
  mode: TelemetrySource['mode'];
  fallbackReason?: string;
  events: number;
  droppedKernel: number;
  droppedUser: number;
  summary: string;
  table: ProcessTable;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const MAX_REJECT_LOGS = 5;
const LINGER_MS = 100;

export async function runTraced(options: RunTracedOptions): Promise<RunTracedResult> {
  const env = options.env ?? process.env;
  const command = options.command;
  if (command.length === 0 || command[0] === '') throw new Error('no command given');
  const name = options.run ?? options.pipeline ?? labelTool(command);
  const dir = tracesDir(env);
  const keep = tracesKept(env);
  const tracePath = options.out ? resolve(options.out) : newTracePath(dir, name);
  const bootId = readBootId();
  const bootPrefix = bootIdPrefix(bootId);

  const table = new ProcessTable();
  const writer = new TraceWriter(tracePath);
  const unlock = lockTrace(tracePath);
  const rotation = options.out
    ? Promise.resolve()
    : rotateTraces(dir, keep, tracePath).then(
        () => undefined,
        (err: Error) => log.warn({ err: err.message, dir }, 'rotating old traces failed'),
      );

  let preparer: RecordPreparer | undefined;
  const pending: SourceRecord[] = [];
  let rejected = 0;
  let writeFailures = 0;
  const write = (records: SourceRecord[]) => {
    if (!preparer) {
      pending.push(...records);
      return;
    }
    const { events, rejects } = preparer.prepare(records);
    for (const r of rejects) {
      if (rejected++ < MAX_REJECT_LOGS)
        log.warn({ type: r.type, seq: r.seq, reason: r.reason }, 'invalid event dropped');
    }
    for (const e of events) table.apply(e);
    try {
      writer.write(events);
    } catch (err) {
      // A full disk must not stop CMD: the events are counted as lost and the run goes on.
      if (writeFailures === 0) log.error({ err: (err as Error).message, tracePath }, 'writing the trace failed');
      writeFailures += events.length;
    }
  };

  // Records about CMD's root process wait for its exit status when /proc could not read it.
  let rootPid: number | undefined;
  let rootUpid: string | undefined;
  let rootStatus: { exitCode: number; signal: number | null } | undefined;
  let heldRootExit: SourceRecord | undefined;
  const onBatch = (batch: SourceRecord[]) => {
    const out: SourceRecord[] = [];
    for (const r of batch) {
      if (r.type === 'process.exec' && r.pid === rootPid && r.sampled && r.argvTruncated && r.argv.length <= 1) {
        // /proc first saw CMD as a zombie, its argv gone: we know what we ran.
        out.push({
          ...r,
          argv: command,
          argvTruncated: false,
          exe: r.exe || (resolveExecutable(command[0]!, env, options.cwd) ?? ''),
        });
      } else if (r.type === 'process.exit' && r.pid === rootPid && r.exitCodeUnknown) {
        if (rootStatus) out.push(withStatus(r, rootStatus));
        else heldRootExit = r;
      } else out.push(r);
    }
    write(out);
  };

  const { source, fallbackReason } = await selectSource(
    { descendantsOf: process.pid, bootId: bootPrefix },
    onBatch,
    env,
  );
  const startTs = nowNs();

  const child = spawn(command[0]!, command.slice(1), {
    stdio: options.stdio ?? 'inherit',
    env,
    cwd: options.cwd ?? process.cwd(),
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((done) => {
    child.once('error', (error) => done({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => done({ code, signal }));
  });
  rootPid = child.pid;
  // libuv returns from spawn once CMD has exec'd, and CMD stays at least a zombie until we
  // reap it, so its start time (the upid) is always readable here.
  const rootStat = rootPid === undefined ? undefined : readStat(rootPid);
  if (rootPid !== undefined && rootStat) rootUpid = makeUpid(bootPrefix, rootPid, rootStat.startTicks * NS_PER_TICK);

  preparer = createRecordPreparer({
    envelope: { tenant: env.TRACER_TENANT || 'local', host: hostname(), agentId: `run-${randomUUID().slice(0, 8)}` },
    // No root (CMD could not start): no process records, the trace's own records still pass.
    filter: createSubtreeFilter(rootPid ?? -1),
  });
  const startRecord: SourceRecord = {
    type: 'trace.start',
    ts: startTs,
    command,
    mode: source.mode,
    ...(options.pipeline !== undefined ? { pipeline: options.pipeline } : {}),
    ...(options.run !== undefined ? { run: options.run } : {}),
    ...(rootPid !== undefined ? { rootPid } : {}),
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
  };
  const hostSampler = createHostSampler({ diskPath: dirname(tracePath) });
  write([startRecord, { type: 'host.info', ts: startTs, ...readHostInfo({ env }) }]);
  write(pending.splice(0));

  const sampler = startProcessSampler({
    intervalMs: options.sampleIntervalMs ?? DEFAULT_SAMPLE_INTERVAL_MS,
    live: () => table.live.entries(),
    source,
    extra: () => [{ type: 'host.sample', ts: nowNs(), ...hostSampler.sample() }],
    onBatch: write,
  });

  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  if (options.forwardSignals ?? true) for (const s of FORWARDED) process.on(s, forward);

  const result = await exited;
  const endTs = nowNs();
  for (const s of FORWARDED) process.off(s, forward);
  sampler.stop();
  if (!result.error) {
    rootStatus = {
      exitCode: result.code ?? 0,
      signal: result.signal ? (signalNumber(result.signal) ?? null) : null,
    };
  }
  if (heldRootExit && rootStatus) {
    write([withStatus(heldRootExit, rootStatus)]);
    heldRootExit = undefined;
  }
  // Descendants still alive may be between fork and exec (`cmd &` right before the script
  // ends): a moment lets their exec reach the trace before capture stops.
  if (table.live.size > (rootPid !== undefined && table.live.has(rootPid) ? 1 : 0)) await sleep(LINGER_MS);
  // We exit soon: the kernel's slow release of the tracepoints need not hold the user's shell.
  await source.stop({ releaseInBackground: true });
  if (heldRootExit) write([heldRootExit]);

  // The /proc fallback misses a CMD that ends before its first poll; we know it ran.
  if (rootPid !== undefined && rootUpid !== undefined && rootStatus) {
    write(
      synthesizeRoot(table, { rootPid, rootUpid, command, env, cwd: options.cwd, startTs, endTs, status: rootStatus }),
    );
  }

  // Where the processes still running stand at the end (state, CPU, RSS so far).
  if (table.live.size > 0) sampler.tick();

  let analysisText: string | undefined;
  if (options.analyze) {
    try {
      const analysis = await options.analyze(tracePath);
      write(analysis.records);
      analysisText = analysis.text;
    } catch (err) {
      // The trace is complete without it: say so, and keep CMD's status.
      log.error({ err: (err as Error).message, tracePath }, 'analysing the trace failed');
    }
  }

  const stats: SourceStats = source.stats();
  const droppedUser = stats.droppedUser + rejected + writeFailures;
  const eventsSent = writer.written;
  write([
    {
      type: 'agent.stats',
      ts: nowNs(),
      mode: source.mode,
      eventsSent,
      droppedKernel: stats.droppedKernel,
      droppedUser,
    },
  ]);
  writer.close();
  unlock();
  await rotation;

  const status = result.error
    ? (result.error as NodeJS.ErrnoException).code === 'ENOENT'
      ? 127
      : 126
    : result.signal
      ? 128 + (signalNumber(result.signal) ?? 0)
      : (result.code ?? 0);
  let summary = renderSummary(table, { tracePath, headerOnly: analysisText !== undefined });
  if (analysisText !== undefined) summary = `${summary}\n\n${analysisText}`;
  if (result.error) summary = `tracer: cannot run ${command[0]}: ${result.error.message}\n${summary}`;
  (options.printSummary ?? ((t: string) => process.stderr.write(`${t}\n`)))(summary);

  return {
    status,
    exitCode: result.code,
    signal: result.signal,
    ...(result.error ? { spawnError: result.error.message } : {}),
    tracePath,
    mode: source.mode,
    ...(fallbackReason !== undefined ? { fallbackReason } : {}),
    events: writer.written,
    droppedKernel: stats.droppedKernel,
    droppedUser,
    summary,
    table,
  };
}

function withStatus(record: SourceRecord, status: { exitCode: number; signal: number | null }): SourceRecord {
  if (record.type !== 'process.exit') return record;
  const { exitCodeUnknown: _unknown, ...rest } = record;
  return { ...rest, exitCode: status.exitCode, signal: status.signal };
}

/** exec and exit records for CMD's root process when the source saw neither. */
function synthesizeRoot(
  table: ProcessTable,
  root: {
    rootPid: number;
    rootUpid: string;
    command: string[];
    env: NodeJS.ProcessEnv;
    cwd: string | undefined;
    startTs: number;
    endTs: number;
    status: { exitCode: number; signal: number | null };
  },
): SourceRecord[] {
  // The BPF source stamps start times in ns, /proc in ticks: match on the tick.
  const startTicks = Math.floor(Number(root.rootUpid.split('-')[2]) / NS_PER_TICK);
  const node = [...table.nodes.values()].find(
    (n) => n.pid === root.rootPid && upidMatchesStartTicks(n.upid, startTicks),
  );
  const out: SourceRecord[] = [];
  const startNs = Number(root.rootUpid.split('-')[2]);
  const startTs = Number.isFinite(startNs) ? Math.min(root.startTs, bootWallNs() + startNs) : root.startTs;
  if (!node || node.execCount === 0) {
    out.push({
      type: 'process.exec',
      ts: startTs,
      pid: root.rootPid,
      upid: root.rootUpid,
      ppid: process.pid,
      sampled: true,
      uid: process.getuid?.() ?? 0,
      exe: resolveExecutable(root.command[0]!, root.env, root.cwd) ?? root.command[0]!,
      argv: root.command,
      argvTruncated: false,
      cwd: root.cwd ?? process.cwd(),
    });
  }
  if (!node?.exit) {
    out.push({
      type: 'process.exit',
      ts: root.endTs,
      pid: root.rootPid,
      upid: root.rootUpid,
      sampled: true,
      exitCode: root.status.exitCode,
      signal: root.status.signal,
      coreDumped: false,
      durationNs: Math.max(0, root.endTs - startTs),
      // Ended before the first poll: its counters were never read.
      countersUnknown: true,
      cpuUserNs: 0,
      cpuSysNs: 0,
      peakRssBytes: 0,
      readBytes: 0,
      writeBytes: 0,
    });
  }
  return out;
}

function resolveExecutable(cmd: string, env: NodeJS.ProcessEnv, cwd = process.cwd()): string | undefined {
  const candidates = cmd.includes('/')
    ? [isAbsolute(cmd) ? cmd : resolve(cwd, cmd)]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, cmd));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // next
    }
  }
  return undefined;
}

export type { TelemetryEvent };
