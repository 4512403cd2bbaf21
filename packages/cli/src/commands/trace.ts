import { listTraces, loadTrace, readFirstEvent, readTrace, tracesDir, tracesKept } from '@tracer/tracer-agent';
import { alignColumns, findAnomalies, formatBytes, formatTimestamp, renderAnomalies } from '@tracer/tracer-agent/core';
import type { Command } from 'commander';
import { resolveTrace } from './trace-file.ts';
import { registerTraceTree } from './tree.ts';

/** `tracer trace list|dump|anomalies`: read the traces `tracer run` wrote, after Inspect AI's `inspect trace`. */
export function registerTraceCommands(program: Command): void {
  const trace = program
    .command('trace')
    .description('list and read the traces written by `tracer run`')
    .addHelpText(
      'after',
      `
Traces are JSON Lines, one event per line, kept in $TRACER_DATA_DIR/traces
(default \${XDG_DATA_HOME:-~/.local/share}/tracer/traces): the newest plain, older ones
gzip-compressed, the last $TRACER_TRACE_KEEP (default 10) kept.`,
    );

  trace
    .command('list')
    .description('list the traces in the data folder, newest first')
    .option('--json', 'output the listing as JSON')
    .action(async (opts: { json?: boolean }) => {
      await fail(async () => {
        const dir = tracesDir();
        const traces = listTraces(dir);
        const rows = await Promise.all(
          traces.map(async (t) => ({ ...t, start: await readFirstEvent(t.path).catch(() => undefined) })),
        );
        if (opts.json) {
          const out = rows.map((r) => ({
            path: r.path,
            compressed: r.compressed,
            sizeBytes: r.sizeBytes,
            modified: new Date(r.modifiedMs).toISOString(),
            writing: r.writing,
            ...(r.start?.type === 'trace.start'
              ? {
                  started: formatTimestamp(Number(r.start.ts)),
                  command: r.start.command,
                  pipeline: r.start.pipeline,
                  run: r.start.run,
                  mode: r.start.mode,
                }
              : {}),
          }));
          process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
          return;
        }
        if (rows.length === 0) {
          process.stdout.write(`No traces in ${dir} (tracer run -- CMD writes one).\n`);
          return;
        }
        process.stdout.write(`Traces in ${dir}, newest first (the last ${tracesKept()} are kept):\n`);
        const table = rows.map((r) => {
          const s = r.start?.type === 'trace.start' ? r.start : undefined;
          const command = Array.isArray(s?.command) ? (s.command as string[]).join(' ') : '?';
          return [
            `  ${
              s
                ? formatTimestamp(Number(s.ts))
                    .replace('T', ' ')
                    .replace(/\.\d+Z$/, 'Z')
                : '?'
            }`,
            String(s?.mode ?? '?'),
            formatBytes(r.sizeBytes),
            r.writing ? 'writing' : '',
            r.file,
            command.length > 60 ? `${command.slice(0, 59)}…` : command,
          ];
        });
        process.stdout.write(`${alignColumns(table, new Set([2])).join('\n')}\n`);
      });
    });

  trace
    .command('dump')
    .description('print a trace as a JSON array of events (plain or gzip-compressed)')
    .argument('[file]', 'trace file, or a name from `tracer trace list` (default: the most recent)')
    .option(
      '--filter <types>',
      'only events whose type starts with one of these (comma-separated, e.g. process.exit,oom)',
    )
    .action(async (file: string | undefined, opts: { filter?: string }) => {
      await fail(async () => {
        const path = resolveTrace(file);
        const prefixes = opts.filter
          ?.split(',')
          .map((p) => p.trim())
          .filter(Boolean);
        let first = true;
        let bad = 0;
        await write('[');
        for await (const line of readTrace(path)) {
          if ('error' in line) {
            bad++;
            process.stderr.write(`tracer trace dump: ${path} line ${line.lineNo} skipped: ${line.error}\n`);
            continue;
          }
          const type = String(line.value.type);
          if (prefixes && !prefixes.some((p) => type.startsWith(p))) continue;
          if (stdoutClosed) break;
          await write(`${first ? '\n' : ',\n'}${JSON.stringify(line.value)}`);
          first = false;
        }
        await write(first ? ']\n' : '\n]\n');
        if (bad > 0) process.exitCode = 1;
      });
    });

  trace
    .command('anomalies')
    .description('processes that did not end well: still running at the end, killed or cancelled (most recent first)')
    .argument('[file]', 'trace file, or a name from `tracer trace list` (default: the most recent)')
    .option('--all', 'also failed (non-zero exit) and timed-out processes')
    .option('--json', 'output the anomalies as JSON')
    .action(async (file: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      await fail(async () => {
        const path = resolveTrace(file);
        const { table, badLines, problems } = await loadTrace(path);
        for (const p of problems) process.stderr.write(`tracer trace anomalies: ${path} ${p}\n`);
        if (badLines > problems.length)
          process.stderr.write(`tracer trace anomalies: ${badLines} invalid lines in all\n`);
        const anomalies = findAnomalies(table, { all: opts.all ?? false });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(anomalies, null, 2)}\n`);
          return;
        }
        const command = table.meta?.command.join(' ') ?? '?';
        process.stdout.write(
          `Trace ${path}\n  ${command}\n\n${renderAnomalies(anomalies, table, { all: opts.all ?? false })}\n`,
        );
      });
    });

  registerTraceTree(trace);
}

/** Set when stdout's reader went away (`dump | head`): the dump stops quietly. */
let stdoutClosed = false;

/** stdout with backpressure. */
function write(text: string): Promise<void> {
  if (stdoutClosed) return Promise.resolve();
  if (process.stdout.listenerCount('error') === 0) {
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      stdoutClosed = true;
      process.stdout.emit('drain');
    });
  }
  return new Promise((done) => {
    if (process.stdout.write(text)) done();
    else process.stdout.once('drain', done);
  });
}

async function fail(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
    process.stderr.write(`tracer trace: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}
