// API keys: `trk_<id>_<secret>`. The id is public (listed, revoked, looked up by); only the
// SHA-256 of the secret is stored. A random 256-bit secret cannot be guessed, so a slow
// password hash would buy nothing and cost every request.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'trk_';
export const scopes = ['ingest', 'read', 'admin'] as const;
export type Scope = (typeof scopes)[number];

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;
const SECRET_BYTES = 32;
const KEY_PATTERN = /^trk_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

export interface ParsedApiKey {
  id: string;
  secret: string;
}

/** The identity a valid key grants: every event it sends is stamped with this tenant. */
export interface KeyIdentity {
  keyId: string;
  tenant: string;
  team: string;
  scopes: Scope[];
}

export function isScope(value: string): value is Scope {
  return (scopes as readonly string[]).includes(value);
}

export function parseApiKey(raw: string): ParsedApiKey | undefined {
  const m = KEY_PATTERN.exec(raw.trim());
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

/** A new key; `random` is injectable for tests. */
export function newApiKey(random: (n: number) => Buffer = randomBytes): ParsedApiKey & { key: string } {
  const bytes = random(ID_LENGTH);
  let id = '';
  // 256 % 36 leaves a small bias; ids only need to be unique, not secret.
  for (const b of bytes) id += ID_ALPHABET[b % ID_ALPHABET.length];
  const secret = random(SECRET_BYTES).toString('base64url');
  return { id, secret, key: `${API_KEY_PREFIX}${id}_${secret}` };
}

export function hashSecret(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}

export function secretMatches(secret: string, storedSha256: Buffer): boolean {
  const hash = hashSecret(secret);
  return storedSha256.length === hash.length && timingSafeEqual(hash, storedSha256);
}

/** `Authorization: Bearer <key>` (or a bare key in `X-Tracer-Key`). */
export function keyFromHeaders(headers: Record<string, string | string[] | undefined>): string | undefined {
  const auth = headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return m ? m[1] : undefined;
  }
  const alt = headers['x-tracer-key'];
  return typeof alt === 'string' ? alt : undefined;
}
