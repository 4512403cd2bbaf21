// The API-key hook of /v1: the key decides who the caller is. Wrong, unknown and revoked
// keys are 401 alike in what they reveal; a valid key without the route's scope is 403.
import type { onRequestAsyncHookHandler } from 'fastify';
import type { KeyStore } from '../../../adapters/postgres-keys.ts';
import { keyFromHeaders, type Scope } from '../../../core/api-key.ts';
import { ProblemError } from '../../errors.ts';

const CHALLENGE = { 'www-authenticate': 'Bearer realm="tracer-ingest"' };

export function apiKeyAuth(keys: KeyStore, scope: Scope): onRequestAsyncHookHandler {
  return async (request) => {
    const raw = keyFromHeaders(request.headers);
    if (raw === undefined) {
      throw new ProblemError(401, 'unauthorized', 'API key required', 'send Authorization: Bearer <key>', {
        headers: CHALLENGE,
      });
    }
    let result: Awaited<ReturnType<KeyStore['authenticate']>>;
    try {
      result = await keys.authenticate(raw);
    } catch (err) {
      // The key store (PostgreSQL) is unreachable: the agent keeps the batch and comes back.
      request.log.warn({ err: (err as Error).message }, 'key lookup failed');
      throw new ProblemError(
        503,
        'unavailable',
        'Key store unavailable',
        'API keys cannot be checked right now; retry',
        {
          headers: { 'retry-after': '5' },
        },
      );
    }
    if (!result.ok) {
      const detail = result.reason === 'revoked' ? 'this API key was revoked' : 'this API key is not valid';
      throw new ProblemError(401, 'unauthorized', 'Invalid API key', detail, { headers: CHALLENGE });
    }
    if (!result.identity.scopes.includes(scope)) {
      throw new ProblemError(403, 'forbidden', 'Scope missing', `this API key lacks the ${scope} scope`);
    }
    request.identity = result.identity;
  };
}
