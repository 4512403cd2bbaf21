// `tracer keys create|list|revoke`: per-team API keys for the ingest gateway (and, later, the
// API). A key is printed once, at creation; only its hash is stored. Runs against the
// database in TRACER_DATABASE_URL (the local stack's by default) as its owner.
import { type Command, InvalidArgumentError, Option } from 'commander';

const stdout = (line: string) => process.stdout.write(`${line}\n`);
const stderr = (line: string) => process.stderr.write(`${line}\n`);

const SCOPES = ['ingest', 'read', 'admin'] as const;
type Scope = (typeof SCOPES)[number];

const collectScope = (raw: string, previous: Scope[] = []): Scope[] => {
  const scopes = raw.split(',').map((s) => s.trim());
  for (const s of scopes) {
    if (!(SCOPES as readonly string[]).includes(s)) throw new InvalidArgumentError(`expected ${SCOPES.join(', ')}`);
  }
  return [...previous, ...(scopes as Scope[])];
};

async function withPool<T>(fn: (pool: import('@tracer/db').Pool) => Promise<T>): Promise<T> {
  const [{ createPool }, { stackAddresses }] = await Promise.all([import('@tracer/db'), import('@tracer/local')]);
  const pool = createPool({ databaseUrl: stackAddresses().databaseUrl, max: 2, applicationName: 'tracer-keys' });
  try {
    return await fn(pool);
  } finally {
    await pool.end();
  }
}

function fail(err: unknown): void {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED')
    stderr('error: PostgreSQL is not running (./tracer up starts it; TRACER_DATABASE_URL points elsewhere)');
  else if (e.code === '42P01')
    stderr('error: the database has no api_keys table yet: run ./tracer up (it applies migrations)');
  else stderr(`error: ${e.message ?? String(err)}`);
  process.exitCode = 1;
}

const when = (d: Date | null) => (d ? d.toISOString().replace(/\.\d+Z$/, 'Z') : '-');

export function registerKeysCommands(program: Command): void {
  const keys = program.command('keys').description('create, list and revoke API keys (one team of one tenant per key)');

  keys
    .command('create')
    .description('create an API key and print it once (the tenant and team are created when missing)')
    .requiredOption('--tenant <id>', 'tenant the key writes and reads as')
    .requiredOption('--team <name>', 'team of the tenant that owns the key')
    .addOption(
      new Option('--scope <scope>', `what the key may do: ${SCOPES.join(', ')} (repeat or comma-separate)`)
        .argParser(collectScope)
        .makeOptionMandatory(),
    )
    .option('--name <text>', 'a label to recognise the key by in `tracer keys list`')
    .addHelpText('after', '\nExample:\n  tracer keys create --tenant acme --team genomics --scope ingest')
    .action(async (opts: { tenant: string; team: string; scope: Scope[]; name?: string }) => {
      try {
        const { createApiKey } = await import('@tracer/ingest');
        const created = await withPool((pool) =>
          createApiKey(pool, {
            tenant: opts.tenant,
            team: opts.team,
            scopes: opts.scope,
            ...(opts.name !== undefined ? { name: opts.name } : {}),
          }),
        );
        if (created.createdTenant) stderr(`created tenant ${created.tenant}`);
        if (created.createdTeam) stderr(`created team ${created.teamName} of ${created.tenant}`);
        stderr(
          `key ${created.id} for team ${created.teamName} of ${created.tenant}, scopes ${created.scopes.join(',')}`,
        );
        stderr('This is the only time the key is shown; store it now (e.g. in the agent config or a secret store).');
        stdout(created.key);
      } catch (err) {
        const e = err as { code?: string; constraint?: string };
        if (e.code === '23514' && e.constraint === 'tenants_id_check') {
          stderr(`error: ${JSON.stringify(opts.tenant)} is not a tenant id (letters, digits, . _ -; 128 at most)`);
          process.exitCode = 1;
        } else fail(err);
      }
    });

  keys
    .command('list')
    .description('list keys: id, tenant, team, scopes, created, last used, revoked (never the key itself)')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'one JSON object per line')
    .action(async (opts: { tenant?: string; json?: boolean }) => {
      try {
        const { listApiKeys } = await import('@tracer/ingest');
        const rows = await withPool((pool) =>
          listApiKeys(pool, opts.tenant !== undefined ? { tenant: opts.tenant } : {}),
        );
        if (opts.json) {
          for (const r of rows) stdout(JSON.stringify(r));
          return;
        }
        const table = [
          ['ID', 'TENANT', 'TEAM', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED', 'NAME'],
          ...rows.map((r) => [
            r.id,
            r.tenant,
            r.teamName,
            r.scopes.join(','),
            when(r.createdAt),
            when(r.lastUsedAt),
            when(r.revokedAt),
            r.name ?? '',
          ]),
        ];
        const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
        for (const row of table)
          stdout(
            row
              .map((c, i) => c.padEnd(widths[i]!))
              .join('  ')
              .trimEnd(),
          );
        if (rows.length === 0) stderr('no keys');
      } catch (err) {
        fail(err);
      }
    });

  keys
    .command('revoke')
    .description('revoke a key by its id (or the key itself); gateways refuse it at once')
    .argument('<id>', 'the key id shown by `tracer keys list` (or the full key)')
    .action(async (id: string) => {
      try {
        const [{ revokeApiKey, announceRevocation }, { stackAddresses }] = await Promise.all([
          import('@tracer/ingest'),
          import('@tracer/local'),
        ]);
        const result = await withPool((pool) => revokeApiKey(pool, id));
        if (result === 'unknown') {
          stderr(`error: no key ${id}`);
          process.exitCode = 1;
          return;
        }
        const keyId = id.startsWith('trk_') ? id.split('_')[1]! : id;
        const told = await announceRevocation(stackAddresses().redisUrl, keyId);
        stdout(result === 'already' ? `key ${keyId} was already revoked` : `revoked key ${keyId}`);
        if (!told)
          stderr(
            'warning: Redis unreachable: gateways refuse the key once their cache expires (TRACER_INGEST_KEY_CACHE_MS)',
          );
      } catch (err) {
        fail(err);
      }
    });
}
