// `pnpm --filter @tracer/db migrate [--database-url URL] [--native]`: applies pending
// migrations and prints their names, one a line. The URL comes from the flag, then
// TRACER_DATABASE_URL, then the local stack's address.
import { parseArgs } from 'node:util';
import { migrate } from '../migrate.ts';

const usage = `usage: migrate [--database-url URL] [--native]

Applies the pending SQL migrations of packages/db/migrations (forward only) and prints the
names of those applied. Running it again applies nothing.

  --database-url URL  PostgreSQL to migrate (default: TRACER_DATABASE_URL, else the local stack)
  --native            use native partitioning even where TimescaleDB is available
  -h, --help          this text`;

function parse() {
  try {
    return parseArgs({
      // `pnpm --filter @tracer/db migrate -- --help` passes the `--` through.
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        'database-url': { type: 'string' },
        native: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    console.error(`migrate: ${(err as Error).message}\n\n${usage}`);
    process.exit(2);
  }
}

const values = parse();
if (values.help) {
  console.log(usage);
} else {
  let databaseUrl = values['database-url'] ?? process.env.TRACER_DATABASE_URL;
  if (!databaseUrl) {
    const { stackAddresses } = await import('@tracer/local');
    databaseUrl = stackAddresses().databaseUrl;
  }
  try {
    const { applied } = await migrate({ databaseUrl, storage: values.native ? 'native' : 'auto' });
    for (const name of applied) console.log(name);
    console.error(applied.length === 0 ? 'migrate: nothing to apply' : `migrate: applied ${applied.length}`);
  } catch (err) {
    console.error(`migrate: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
