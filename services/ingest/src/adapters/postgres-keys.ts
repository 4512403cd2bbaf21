// API keys in PostgreSQL: creation, listing and revocation (the `tracer keys` commands), and
// the gateway's key store: lookups cached in memory, revocations pushed through Redis, last
// use written for all keys at once every few seconds instead of once per request.
import type { Pool, PoolClient } from '@tracer/db';
import type { Logger } from '@tracer/log';
import { Redis } from 'ioredis';
import { hashSecret, type KeyIdentity, newApiKey, parseApiKey, type Scope, secretMatches } from '../core/api-key.ts';

/** Redis channel on which `tracer keys revoke` announces revoked key ids. */
export const REVOCATION_CHANNEL = 'tracer:ingest:keys:revoked';

export interface CreatedKey {
  key: string;
  id: string;
  tenant: string;
  team: string;
  teamName: string;
  scopes: Scope[];
  createdTenant: boolean;
  createdTeam: boolean;
}

/** Creates a key for a team (the tenant and team are created when missing). Runs as the owner. */
export async function createApiKey(
  pool: Pool,
  input: { tenant: string; team: string; scopes: Scope[]; name?: string },
): Promise<CreatedKey> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    // teams and api_keys force row-level security even on their owner: act as this tenant.
    await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [input.tenant]);
    const tenant = await client.query(
      'INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING RETURNING id',
      [input.tenant],
    );
    const team = await client.query<{ id: string }>(
      'INSERT INTO teams (tenant_id, name) VALUES ($1, $2) ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id',
      [input.tenant, input.team],
    );
    const teamId =
      team.rows[0]?.id ??
      (
        await client.query<{ id: string }>('SELECT id FROM teams WHERE tenant_id = $1 AND name = $2', [
          input.tenant,
          input.team,
        ])
      ).rows[0]!.id;
    const { id, secret, key } = newApiKey();
    await client.query(
      'INSERT INTO api_keys (id, tenant_id, team_id, name, scopes, secret_sha256) VALUES ($1, $2, $3, $4, $5, $6)',
      [id, input.tenant, teamId, input.name ?? null, [...new Set(input.scopes)], hashSecret(secret)],
    );
    await client.query('COMMIT');
    return {
      key,
      id,
      tenant: input.tenant,
      team: teamId,
      teamName: input.team,
      scopes: [...new Set(input.scopes)],
      createdTenant: tenant.rowCount === 1,
      createdTeam: team.rowCount === 1,
    };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export interface ListedKey {
  id: string;
  tenant: string;
  team: string;
  teamName: string;
  name: string | null;
  scopes: Scope[];
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/**
 * Keys of one tenant, or of all when the database role may see every tenant's rows (the
 * owner on the dev stack is a superuser; elsewhere pass a tenant).
 */
export async function listApiKeys(pool: Pool, filter: { tenant?: string } = {}): Promise<ListedKey[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN READ ONLY');
    if (filter.tenant !== undefined)
      await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [filter.tenant]);
    const listed = await selectKeys(client, filter);
    await client.query('COMMIT');
    return listed;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function selectKeys(client: PoolClient, filter: { tenant?: string }): Promise<ListedKey[]> {
  const { rows } = await client.query<{
    id: string;
    tenant_id: string;
    team_id: string;
    team_name: string;
    name: string | null;
    scopes: Scope[];
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
  }>(
    `SELECT k.id, k.tenant_id, k.team_id, t.name AS team_name, k.name, k.scopes, k.created_at, k.last_used_at, k.revoked_at
     FROM api_keys k JOIN teams t ON t.tenant_id = k.tenant_id AND t.id = k.team_id
     WHERE $1::text IS NULL OR k.tenant_id = $1
     ORDER BY k.tenant_id, t.name, k.created_at`,
    [filter.tenant ?? null],
  );
  return rows.map((r) => ({
    id: r.id,
    tenant: r.tenant_id,
    team: r.team_id,
    teamName: r.team_name,
    name: r.name,
    scopes: r.scopes,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  }));
}

/**
 * Revokes a key by id (or full key); returns false when no such key exists. Gateways hear
 * of it through Redis at once when `redis` is given, else when their cache entry expires.
 */
export async function revokeApiKey(
  pool: Pool,
  idOrKey: string,
  redis?: Redis,
): Promise<'revoked' | 'already' | 'unknown'> {
  const id = parseApiKey(idOrKey)?.id ?? idOrKey.trim();
  // The key's tenant first (through the lookup function), then the update as that tenant.
  const owner = await pool.query<{ tenant_id: string }>('SELECT tenant_id FROM tracer_api_key($1)', [id]);
  const tenant = owner.rows[0]?.tenant_id;
  if (tenant === undefined) return 'unknown';
  const client = await pool.connect();
  let wasRevoked: boolean;
  try {
    await client.query('BEGIN');
    await client.query("SELECT set_config('tracer.tenant_id', $1, true)", [tenant]);
    const { rows } = await client.query<{ was_revoked: boolean }>(
      `UPDATE api_keys k SET revoked_at = COALESCE(k.revoked_at, now())
       FROM (SELECT id, revoked_at IS NOT NULL AS was_revoked FROM api_keys WHERE id = $1 FOR UPDATE) old
       WHERE k.id = old.id RETURNING old.was_revoked`,
      [id],
    );
    await client.query('COMMIT');
    if (rows.length === 0) return 'unknown';
    wasRevoked = rows[0]!.was_revoked;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
  await redis?.publish(REVOCATION_CHANNEL, id);
  return wasRevoked ? 'already' : 'revoked';
}

/** Tells every gateway listening on Redis that a key is revoked (`tracer keys revoke`). */
export async function announceRevocation(redisUrl: string, id: string): Promise<boolean> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.publish(REVOCATION_CHANNEL, id);
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export type AuthResult =
  | { ok: true; identity: KeyIdentity }
  | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' };

interface CachedKey {
  row: { tenant_id: string; team_id: string; scopes: Scope[]; secret_sha256: Buffer; revoked_at: Date | null } | null;
  until: number;
}

/** Unknown ids are remembered briefly, so a stream of made-up keys cannot load the database. */
const NEGATIVE_CACHE_MS = 5000;
const MAX_CACHED_KEYS = 100_000;

export class KeyStore {
  readonly #pool: Pool;
  readonly #cacheMs: number;
  readonly #log: Logger;
  readonly #cache = new Map<string, CachedKey>();
  readonly #inflight = new Map<string, Promise<CachedKey>>();
  #used = new Set<string>();

  constructor(pool: Pool, options: { cacheMs: number; log: Logger }) {
    this.#pool = pool;
    this.#cacheMs = options.cacheMs;
    this.#log = options.log;
  }

  async authenticate(rawKey: string | undefined): Promise<AuthResult> {
    const parsed = rawKey === undefined ? undefined : parseApiKey(rawKey);
    if (!parsed) return { ok: false, reason: 'malformed' };
    const { row } = await this.#lookup(parsed.id);
    // Unknown id and wrong secret answer alike: the caller learns nothing about which ids exist.
    if (!row || !secretMatches(parsed.secret, row.secret_sha256)) return { ok: false, reason: 'unknown' };
    if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
    this.#used.add(parsed.id);
    return { ok: true, identity: { keyId: parsed.id, tenant: row.tenant_id, team: row.team_id, scopes: row.scopes } };
  }

  /** Forgets a key at once (a revocation heard on Redis). */
  evict(id: string): void {
    this.#cache.delete(id);
  }

  /** Writes the last-use time of every key used since the previous flush, in one statement. */
  async flushLastUsed(at = new Date()): Promise<number> {
    if (this.#used.size === 0) return 0;
    const ids = [...this.#used];
    this.#used = new Set();
    try {
      await this.#pool.query('SELECT tracer_touch_api_keys($1, $2)', [ids, at]);
    } catch (err) {
      for (const id of ids) this.#used.add(id);
      throw err;
    }
    return ids.length;
  }

  /** Subscribes to revocations; returns the unsubscribe. `subscriber` must be a dedicated connection. */
  async listenForRevocations(subscriber: Redis): Promise<() => Promise<void>> {
    subscriber.on('message', (channel: string, id: string) => {
      if (channel !== REVOCATION_CHANNEL) return;
      this.evict(id);
      this.#log.info({ keyId: id }, 'key revoked; evicted from cache');
    });
    await subscriber.subscribe(REVOCATION_CHANNEL);
    return async () => {
      await subscriber.unsubscribe(REVOCATION_CHANNEL);
    };
  }

  async #lookup(id: string): Promise<CachedKey> {
    const now = Date.now();
    const cached = this.#cache.get(id);
    if (cached && cached.until > now) return cached;
    let pending = this.#inflight.get(id);
    if (!pending) {
      pending = (async () => {
        const { rows } = await this.#pool.query<NonNullable<CachedKey['row']>>(
          'SELECT tenant_id, team_id, scopes, secret_sha256, revoked_at FROM tracer_api_key($1)',
          [id],
        );
        const row = rows[0] ?? null;
        const entry = { row, until: Date.now() + (row ? this.#cacheMs : Math.min(this.#cacheMs, NEGATIVE_CACHE_MS)) };
        if (this.#cache.size >= MAX_CACHED_KEYS) this.#cache.clear();
        this.#cache.set(id, entry);
        return entry;
      })().finally(() => this.#inflight.delete(id));
      this.#inflight.set(id, pending);
    }
    return pending;
  }
}
