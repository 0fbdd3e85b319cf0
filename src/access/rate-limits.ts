import { type Refusal, refuse } from "../core/decision";
import { sha256Base64url } from "../crypto/encoding";
import { logEvent } from "../observability/log";

/**
 * One check against a Workers rate-limit binding. The limiter protects us; it does not
 * authenticate anyone, so if the binding itself fails the request goes on (fail open)
 * and the failure is logged. Keys must not hold secrets: callers pass hashes or ids.
 */
export async function rateLimit(
  limiter: RateLimit,
  key: string,
  limiterName: string,
): Promise<Refusal | undefined> {
  let allowed: boolean;
  try {
    ({ success: allowed } = await limiter.limit({ key }));
  } catch (error) {
    logEvent("warn", "rate_limiter_unavailable", {
      limiter: limiterName,
      error: error instanceof Error ? error.message : typeof error,
    });
    return undefined;
  }
  return allowed
    ? undefined
    : refuse("rateLimited", undefined, { limiter: limiterName, securityEvent: "rate_limit_hit" });
}

/**
 * The limit on one token being tried, keyed on its hash (never the token): CEC speaks
 * for every visitor from a few addresses, so the caller's address cannot be the key.
 */
export async function tokenLimit(limiter: RateLimit, token: string): Promise<Refusal | undefined> {
  return rateLimit(limiter, `token:${await sha256Base64url(token)}`, "TOKEN_LIMITER");
}
