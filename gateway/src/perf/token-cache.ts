import type { Identity } from '@itsm/kit';
import type { TokenVerifier } from '../auth.js';

/**
 * Remembers verified tokens so a client sending the same JWT on every request pays for one signature check per
 * `ttlMs`, never past the token's own `exp`. Failures are not cached. Bounded: the oldest entries go first.
 */
export function cacheVerifiedTokens(verify: TokenVerifier, options: { maxEntries: number; ttlMs: number; now?: () => number }): TokenVerifier {
  if (options.maxEntries <= 0) return verify;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { identity: Identity; until: number }>();
  return async (authorization) => {
    if (!authorization) return verify(authorization);
    const hit = cache.get(authorization);
    if (hit && hit.until > now()) return hit.identity;
    if (hit) cache.delete(authorization);
    const identity = await verify(authorization);
    const exp = expiryOf(authorization);
    cache.set(authorization, { identity, until: Math.min(now() + options.ttlMs, exp ?? Infinity) });
    if (cache.size > options.maxEntries) cache.delete(cache.keys().next().value!);
    return identity;
  };
}

/** The `exp` of a JWT already verified, in ms; undefined when it has none. */
function expiryOf(authorization: string): number | undefined {
  const payload = authorization.split(' ')[1]?.split('.')[1];
  if (!payload) return undefined;
  const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
  return typeof exp === 'number' ? exp * 1000 : undefined;
}
