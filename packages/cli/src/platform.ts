// Bringing the local platform up, shared by `tracer up` and `tracer test` so tests run against
// exactly what users run: the stack from infra/local, then the database migrations.
import { createStack, type Progress, type Stack, StackError } from '@tracer/local';

/** Human progress on stderr; stdout stays for a command's own output. */
export const printProgress: Progress = (line) => {
  process.stderr.write(`${line}\n`);
};

type Migrate = (opts: { databaseUrl: string }) => Promise<unknown>;

/**
 * `migrate` from @tracer/db, or undefined while that package does not provide one yet.
 * Only the package itself being absent is tolerated; an error inside it propagates.
 */
async function loadMigrate(): Promise<Migrate | undefined> {
  const specifier = '@tracer/db';
  let db: { migrate?: unknown };
  try {
    db = await import(specifier);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // The message names what is missing first ("Cannot find module 'X' imported from Y").
    const target = /Cannot find (?:module|package) '([^']+)'/.exec(e.message)?.[1] ?? '';
    const missing =
      e.code === 'ERR_MODULE_NOT_FOUND' &&
      (target === specifier || /(@tracer|packages)\/db\/src\/index\.ts$/.test(target));
    if (missing) return undefined;
    throw err;
  }
  return typeof db.migrate === 'function' ? (db.migrate as Migrate) : undefined;
}

export async function migrateDatabase(databaseUrl: string, progress: Progress): Promise<void> {
  const migrate = await loadMigrate();
  if (migrate === undefined) {
    progress('migrations: @tracer/db has no migrate() yet; skipped');
    return;
  }
  const t0 = Date.now();
  try {
    await migrate({ databaseUrl });
  } catch (err) {
    throw new StackError(
      `migrations failed: ${err instanceof Error ? err.message : String(err)}\n` +
        'The database is running; fix the migration and run ./tracer up again (packages/db/migrations).',
    );
  }
  progress(`migrations: applied (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
}

/** Starts what is not running, waits for it, migrates; returns the servers this call started. */
export async function startPlatform(progress: Progress): Promise<{ stack: Stack; started: string[] }> {
  const stack = createStack();
  const { started } = await stack.up(progress);
  await migrateDatabase(stack.addresses.databaseUrl, progress);
  return { stack, started };
}

/** `NAME STATE ADDRESS` per component (plus the reason when not running); true if all run. */
export async function printStatus(stack: Stack, out: (line: string) => void): Promise<boolean> {
  let allRunning = true;
  for (const { server, status } of await stack.status()) {
    if (status.state !== 'running') allRunning = false;
    out(`${server.name} ${status.state} ${server.address}${status.reason ? ` (${status.reason})` : ''}`);
  }
  return allRunning;
}

/** Prints a StackError as the user's next step (no stack trace); anything else in full. */
export function reportFailure(err: unknown): void {
  if (err instanceof StackError) process.stderr.write(`error: ${err.message}\n`);
  else process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}
