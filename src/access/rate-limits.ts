import { type Refusal, refuse } from "../core/decision";
import { sha256Base64url } from "../crypto/encoding";
import { logEvent } from "../observability/log";
import { userRefOf } from "../state/keys";
import type { Caller } from "./callers";

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

/**
 * One session opened by a user (tenant and user id, hashed; never the ids): a budget of
 * its own (SESSION_LIMITER), spent once the token that opens it has verified, so that
 * nobody but the user can spend it, and a user cannot fill storage with sessions.
 */
export async function sessionOpenLimit(
  limiter: RateLimit,
  user: { tenantSpaceId: string; userId: string },
): Promise<Refusal | undefined> {
  return rateLimit(limiter, `session-user:${await userRefOf(user)}`, "SESSION_LIMITER");
}

/**
 * What a caller spends: issuing tokens, or ending them (a token revoked, a user revoked).
 * Each has its own limiter, so whoever can make the enterprise backend issue tokens can
 * never spend the budget its revocations need.
 */
export type Budget = "issuance" | "ends";

const LIMITERS = { issuance: "ISSUE_LIMITER", ends: "END_LIMITER" } as const satisfies Record<
  Budget,
  keyof Env
>;

/**
 * One unit of `budget` for this caller, keyed on who it is: the API key's position, the
 * identity (issuer and user, hashed), or the service binding by its props (its `name`,
 * else its tenants), so that one partner's Worker cannot spend another's budget.
 */
export async function spend(env: Env, budget: Budget, caller: Caller): Promise<Refusal | undefined> {
  const key =
    caller.kind === "apiKey"
      ? `api-key:${caller.index}`
      : caller.kind === "identity"
        ? `identity:${await sha256Base64url(JSON.stringify([caller.identity.issuer, caller.identity.userId]))}`
        : `service-binding:${await sha256Base64url(JSON.stringify([caller.name ?? null, caller.tenants ? [...caller.tenants].sort() : null]))}`;
  const limiter = LIMITERS[budget];
  return rateLimit(env[limiter], key, limiter);
}
