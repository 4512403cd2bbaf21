import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { repoRoot, type Stack } from '@tracer/local';
import { type Command, InvalidArgumentError } from 'commander';
import { printProgress, reportFailure, startPlatform } from '../platform.ts';
import { findTestFiles } from '../test-files.ts';

interface TestOptions {
  stack: boolean;
  concurrency: number;
  timeout: number;
  deadline: number;
  name?: string;
}

// One file per core: measured on 2 cores, 4 at once made the suite slower (298 s vs 180 s) and
// made load-sensitive tests (stall detection, signal timing) fail next to real pipelines.
const defaultConcurrency = Math.max(2, Math.min(8, availableParallelism()));

const positiveInt = (raw: string) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

/**
 * `tracer test`: the one test command (README, CI). Brings the platform up exactly as
 * `tracer up` does, runs every test file in one node:test invocation, prints a closing
 * `N passed, N failed`, and stops the servers it started (never ones already running).
 */
export function registerTestCommand(program: Command): void {
  program
    .command('test')
    .description('start the platform like `up`, run the workspace tests against it, stop what it started')
    .argument('[paths...]', 'only the test files under these files or folders (e.g. packages/events)')
    .option('--no-stack', 'do not start the platform (unit tests only; integration tests will fail)')
    .option('-c, --concurrency <n>', 'test files run at once', positiveInt, defaultConcurrency)
    .option('-t, --timeout <ms>', 'time limit of each test', positiveInt, 60_000)
    .option('--deadline <minutes>', 'time limit of the whole run (a file that never exits is killed)', positiveInt, 45)
    .option('-n, --name <regexp>', 'only tests whose name matches')
    .action(async (paths: string[], opts: TestOptions) => {
      process.exitCode = await runTests(paths, opts);
    });
}

async function runTests(paths: string[], opts: TestOptions): Promise<number> {
  let files: string[];
  try {
    files = findTestFiles(repoRoot, paths);
  } catch (err) {
    reportFailure(err);
    return 2;
  }
  printProgress(`test: ${files.length} test files`);

  let stack: Stack | undefined;
  let started: string[] = [];
  // Integration tests live in test/ folders; a selection of unit tests alone needs no server.
  const needsServers = files.some((f) => relative(repoRoot, f).split(sep).includes('test'));
  if (opts.stack && !needsServers) printProgress('test: unit tests only; the platform is not needed');
  if (opts.stack && needsServers) {
    try {
      ({ stack, started } = await startPlatform(printProgress, { services: false }));
    } catch (err) {
      reportFailure(err);
      printProgress('test: the platform did not come up; no tests ran.');
      printSummary(undefined);
      return 1;
    }
  }

  const t0 = Date.now();
  const outDir = mkdtempSync(join(tmpdir(), 'tracer-test-'));
  const summaryFile = join(outDir, 'summary.json');
  let code: number;
  try {
    code = await runNodeTest(files, opts, summaryFile, stack);
  } finally {
    if (stack && started.length > 0) {
      printProgress(`test: stopping what this run started (${started.join(', ')})`);
      await stack.down(printProgress, started).catch(reportFailure);
    }
  }
  const counts = readCounts(summaryFile);
  rmSync(outDir, { recursive: true, force: true });
  printProgress(`test: ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  if (counts === undefined) printProgress(`test: the test runner exited (${code}) before reporting`);
  printSummary(counts);
  return code !== 0 || counts === undefined || counts.failed > 0 ? 1 : 0;
}

/** One `node --test` run: spec output for people, the summary reporter for the closing line. */
function runNodeTest(
  files: string[],
  opts: TestOptions,
  summaryFile: string,
  stack: Stack | undefined,
): Promise<number> {
  const reporter = join(import.meta.dirname, '../test-summary-reporter.ts');
  const args = [
    '--test',
    `--test-concurrency=${opts.concurrency}`,
    `--test-timeout=${opts.timeout}`,
    // No --test-force-exit: it drops verdicts of tests that ran (nodejs/node#64833), so the
    // count would be a lower bound. A file that leaves a client open hangs; the deadline
    // below turns that into a loud failure.
    ...['--test-reporter=spec', '--test-reporter-destination=stdout'],
    ...[`--test-reporter=${reporter}`, `--test-reporter-destination=${summaryFile}`],
    ...(opts.name ? [`--test-name-pattern=${opts.name}`] : []),
    ...files.map((f) => relative(repoRoot, f)),
  ];
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // kafkajs schedules a negative timeout on Node 24 (harmless); keep test output readable.
    NODE_OPTIONS: [
      process.env.NODE_OPTIONS,
      '--disable-warning=ExperimentalWarning',
      '--disable-warning=TimeoutNegativeWarning',
    ]
      .filter(Boolean)
      .join(' '),
    TRACER_LOG_LEVEL: process.env.TRACER_LOG_LEVEL ?? 'warn',
    ...(stack && {
      TRACER_KAFKA_BROKERS: stack.addresses.kafkaBrokers.join(','),
      TRACER_DATABASE_URL: stack.addresses.databaseUrl,
      TRACER_REDIS_URL: stack.addresses.redisUrl,
    }),
  };
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: 'inherit' });
  // Ctrl-C reaches the runner too (same process group); wait for it, then clean up.
  // A SIGTERM aimed at this process alone is passed on.
  const ignore = () => {};
  const forward = () => child.kill('SIGTERM');
  const deadline = setTimeout(() => {
    printProgress(
      `test: still running after ${opts.deadline} min: a test file left a handle open (a client, a timer) ` +
        'and never exits; the files without a result above are the suspects. Stopping the run.',
    );
    child.kill('SIGTERM');
  }, opts.deadline * 60_000);
  process.on('SIGINT', ignore);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.once('error', (err) => {
      reportFailure(err);
      resolve(1);
    });
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

function readCounts(file: string): Counts | undefined {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return JSON.parse(lines.at(-1)!) as Counts;
  } catch {
    return undefined;
  }
}

function printSummary(counts: Counts | undefined): void {
  const c = counts ?? { passed: 0, failed: 0, skipped: 0 };
  if (c.skipped > 0) process.stdout.write(`(${c.skipped} skipped or todo)\n`);
  process.stdout.write(`${c.passed} passed, ${c.failed} failed\n`);
}
