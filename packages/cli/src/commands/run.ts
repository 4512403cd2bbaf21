import { dataDir, runTraced } from '@tracer/tracer-agent';
import { type Command, InvalidArgumentError } from 'commander';
import { analyzeRun } from '../run-analysis.ts';
import { mergeStepHistory, readStepHistory, stepHistoryPath, writeStepHistory } from '../step-history.ts';

interface RunOptions {
  pipeline?: string;
  run?: string;
  out?: string;
  sampleInterval: number;
}

const positiveInt = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/** Exit status when tracer itself fails before CMD runs (as env(1) and docker do). */
const TRACER_FAILED = 125;

/**
 * `tracer run -- CMD ARGS...`: traces CMD and its descendants with no server, writes the trace
 * (JSON Lines), prints what ran and what failed on stderr, and exits with CMD's status.
 */
export function registerRunCommand(program: Command): void {
  // Everything after CMD belongs to CMD (`tracer run nextflow run x --run y`), which needs
  // positional options on the parent.
  program.enablePositionalOptions();
  program
    .command('run')
    .description('trace CMD and everything it starts; print what ran, what failed and why; exit with its status')
    .usage('[options] -- CMD [ARGS...]')
    .argument('<command...>', 'the command to trace, then its arguments')
    .option('--pipeline <name>', 'pipeline name to record (e.g. nf-core/rnaseq)')
    .option('--run <name>', 'run name to record (default: the command)')
    .option('-o, --out <file>', 'write the trace here instead of the data folder')
    .option('--sample-interval <ms>', 'interval of per-process and host samples', positiveInt, 1000)
    .passThroughOptions()
    .addHelpText(
      'after',
      `
Environment:
  TRACER_AGENT_MODE     bpf (fail without eBPF), proc (force /proc sampling) or auto (default)
  TRACER_AGENT_POLL_MS  /proc sampling interval (default 20; stretched to keep its CPU use under 10%)
  TRACER_DATA_DIR       data folder (default \${XDG_DATA_HOME:-~/.local/share}/tracer); traces in traces/
  TRACER_TRACE_KEEP     traces kept in the data folder (default 10; older ones gzip-compressed);
                        step durations of every run stay in step-history.json there (slow_step's history)
  TRACER_LOG_LEVEL      level of tracer's own JSON logs on stderr (default info)

Examples:
  tracer run -- bash pipeline.sh
  tracer run --pipeline rnaseq --run test1 -- nextflow run nf-core/rnaseq -profile test
  tracer trace anomalies          # what did not end well in the last trace`,
    )
    .action(async (command: string[], opts: RunOptions) => {
      try {
        const result = await runTraced({
          command,
          sampleIntervalMs: opts.sampleInterval,
          analyze: async (tracePath) => {
            // slow_step compares each step with its earlier runs on this machine.
            const historyPath = stepHistoryPath(dataDir());
            const history = readStepHistory(historyPath, (m) => process.stderr.write(`tracer run: ${m}\n`));
            const { insights, text, stepDurations } = await analyzeRun(tracePath, { history });
            writeStepHistory(historyPath, mergeStepHistory(history, stepDurations));
            return {
              records: insights.map((i) => ({ type: 'insight' as const, ts: i.endTs ?? i.startTs, ...i })),
              text,
            };
          },
          ...(opts.pipeline !== undefined ? { pipeline: opts.pipeline } : {}),
          ...(opts.run !== undefined ? { run: opts.run } : {}),
          ...(opts.out !== undefined ? { out: opts.out } : {}),
        });
        process.exitCode = result.status;
      } catch (err) {
        process.stderr.write(`tracer run: ${(err as Error).message}\n`);
        process.exitCode = TRACER_FAILED;
      }
    });
}
