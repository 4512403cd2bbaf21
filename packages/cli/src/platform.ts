// Bringing the local platform up, shared by `tracer up` and `tracer test` so tests run against
// exactly what users run: the servers from infra/local, the database migrations, then (for
// `up`) Tracer's own services and this host's agent.
import { createServiceStack, createStack, type Progress, type Stack, StackError } from '@tracer/local';

/** Human progress on stderr; stdout stays for a command's own output. */
export const printProgress: Progress = (line) => {
  process.stderr.write(`${line}\n`);
};

/** Applies pending migrations (@tracer/db, loaded only here: status and down need no pg). */
export async function migrateDatabase(databaseUrl: string, progress: Progress): Promise<void> {
  const { migrate } = await import('@tracer/db');
  const t0 = Date.now();
  let applied: string[];
  try {
    ({ applied } = await migrate({ databaseUrl }));
  } catch (err) {
    throw new StackError(
      `migrations failed: ${err instanceof Error ? err.message : String(err)}\n` +
        'The servers are running; fix the migration (packages/db/migrations) and run ./tracer up again.',
    );
  }
  const took = `${((Date.now() - t0) / 1000).toFixed(1)}s`;
  progress(applied.length ? `migrations: applied ${applied.join(', ')} (${took})` : 'migrations: up to date');
}

/** The servers, then the services above them: start in this order, stop in reverse. */
export function platformLayers(): Stack[] {
  return [createStack(), createServiceStack()];
}

/**
 * Starts what is not running, waits for it, migrates; returns what this call started. The
 * test command leaves the services out: tests start their own, and a host agent tracing the
 * whole machine would trace the test suite too.
 */
export async function startPlatform(
  progress: Progress,
  options: { services?: boolean } = {},
): Promise<{ stack: Stack; started: string[] }> {
  const [stack, services] = platformLayers() as [Stack, Stack];
  const { started } = await stack.up(progress);
  await migrateDatabase(stack.addresses.databaseUrl, progress);
  if (options.services ?? true) started.push(...(await services.up(progress)).started);
  return { stack, started };
}

/** Stops the services, then the servers. */
export async function stopPlatform(progress: Progress): Promise<void> {
  for (const layer of platformLayers().reverse()) await layer.down(progress);
}

/** `NAME STATE ADDRESS` per component (plus the reason when not running); true if all run. */
export async function printStatus(layers: Stack[], out: (line: string) => void): Promise<boolean> {
  let allRunning = true;
  for (const layer of layers) {
    for (const { server, status } of await layer.status()) {
      if (status.state !== 'running') allRunning = false;
      out(`${server.name} ${status.state} ${server.address}${status.reason ? ` (${status.reason})` : ''}`);
    }
  }
  return allRunning;
}

/** Prints a StackError as the user's next step (no stack trace); anything else in full. */
export function reportFailure(err: unknown): void {
  if (err instanceof StackError) process.stderr.write(`error: ${err.message}\n`);
  else process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
}
