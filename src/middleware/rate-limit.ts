import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { sha256Base64url } from "../crypto/encoding";
import { clientAddressKey } from "../http/client-address";
import { logEvent } from "../observability/log";
import { ServiceError } from "../ret-codes";

/**
 * One check against a Workers rate-limit binding. The limiter protects us; it does not
 * authenticate anyone, so if the binding itself fails the request goes on (fail open)
 * and the failure is logged. Keys must not hold secrets: callers pass hashes or ids.
 */
export async function enforceRateLimit(limiter: RateLimit, key: string, limiterName: string): Promise<void> {
  let allowed: boolean;
  try {
    ({ success: allowed } = await limiter.limit({ key }));
  } catch (error) {
    logEvent("warn", "rate_limiter_unavailable", {
      limiter: limiterName,
      error: error instanceof Error ? error.message : typeof error,
    });
    return;
  }
  if (!allowed) throw new ServiceError("rateLimited", undefined, { limiter: limiterName });
}

/** The generous per-address ceiling every route that does work sits behind. */
export const addressCeiling: MiddlewareHandler<AppEnv> = async (c, next) => {
  await enforceRateLimit(c.env.ADDRESS_LIMITER, `address:${clientAddressKey(c.req.raw)}`, "ADDRESS_LIMITER");
  await next();
};

/**
 * The limit on one token being tried, keyed on its hash (never the token): CEC speaks
 * for every visitor from a few addresses, so the caller's address cannot be the key.
 */
export async function enforceTokenLimit(env: Env, token: string): Promise<void> {
  await enforceRateLimit(env.TOKEN_LIMITER, `token:${await sha256Base64url(token)}`, "TOKEN_LIMITER");
}
