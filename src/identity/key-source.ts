import { createRemoteJWKSet, type JWTVerifyGetKey } from "jose";

/**
 * Where one identity issuer's keys come from, resolved once when the configuration is
 * parsed: the key-set cache and the provider's health belong to that configuration (one
 * per isolate), not to a module-wide table.
 */
export interface KeySource {
  /** jose's key resolver. */
  readonly resolve: JWTVerifyGetKey;
  /** When the provider last failed to serve its keys (ms); never, for a local source. */
  failedAt: number;
}

/** A key set is kept this long in isolate memory (jose's default, 10 min). */
const CACHE_MAX_AGE_MS = 10 * 60 * 1000;
/** At most one refetch per this period when a token names a `kid` the cached set lacks. */
const COOLDOWN_MS = 30 * 1000;
/** A key-set fetch slower than this counts as the provider being down. */
const TIMEOUT_MS = 3 * 1000;

/**
 * A provider's published JWKS. jose caches the keys and refetches on an unknown `kid`
 * at most once per cooldown, so random `kid`s cannot make us hammer the provider.
 */
export function remoteKeySource(jwksUri: string): KeySource {
  return {
    resolve: createRemoteJWKSet(new URL(jwksUri), {
      cacheMaxAge: CACHE_MAX_AGE_MS,
      cooldownDuration: COOLDOWN_MS,
      timeoutDuration: TIMEOUT_MS,
    }),
    failedAt: Number.NEGATIVE_INFINITY,
  };
}

/** Keys held in this isolate (the development provider's): they never fail to load. */
export function localKeySource(keys: () => Promise<JWTVerifyGetKey>): KeySource {
  return {
    resolve: async (header, token) => (await keys())(header, token),
    failedAt: Number.NEGATIVE_INFINITY,
  };
}
