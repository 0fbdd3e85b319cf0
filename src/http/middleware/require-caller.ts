import type { Context, MiddlewareHandler } from "hono";
import {
  apiKeyCaller,
  type Caller,
  type Credentials,
  type IssuerOptions,
  issuingCaller,
} from "../../access/callers";
import { type Budget, spend } from "../../access/rate-limits";
import type { Decision } from "../../core/decision";
import type { ApiKeyRing } from "../../crypto/api-keys";
import { note } from "../../observability/audit";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";

const BEARER = /^Bearer +(\S+) *$/i;

export function credentialsOf(request: Request): Credentials {
  const authorization = request.headers.get("Authorization");
  return {
    bearer: BEARER.exec(authorization ?? "")?.[1],
    authorizationSent: authorization !== null,
    accessAssertion: request.headers.get("Cf-Access-Jwt-Assertion") ?? undefined,
  };
}

/** Sets `c.var.caller` once its budget (if any) allows, or answers the refusal. */
async function admit(
  c: Context<AppEnv>,
  who: Decision<Caller>,
  budget: Budget | undefined,
  next: () => Promise<void>,
) {
  if (who.outcome !== "ok") return answer(c, who);
  const caller = who.value;
  if (caller.kind === "apiKey") note(c.var.audit, { apiKey: caller.name ?? caller.index });
  if (caller.kind === "identity")
    note(c.var.audit, { userId: caller.identity.userId, identityIssuer: caller.identity.issuer });
  const overBudget = budget === undefined ? undefined : await spend(c.env, budget, caller);
  if (overBudget) return answer(c, overBudget);
  c.set("caller", caller);
  await next();
}

/**
 * Requires `Authorization: Bearer <one of API_KEYS>`: the enterprise backend's routes.
 * Each API key spends its own `budget` (src/access/rate-limits.ts); a route with none
 * (a read of this isolate's counters) is held only to the per-address ceiling.
 *
 * @example
 * .delete("/:tokenId", requireApiKey({ apiKeys: config.apiKeys, budget: "ends" }), handler)
 */
export function requireApiKey(options: {
  readonly apiKeys: ApiKeyRing;
  readonly budget?: Budget;
}): MiddlewareHandler<AppEnv> {
  return async function requireApiKey(c, next) {
    return admit(c, await apiKeyCaller(options.apiKeys, credentialsOf(c.req.raw)), options.budget, next);
  };
}

/**
 * `POST /v1/tokens`: an API key, or an identity JWT from one of IDENTITY_ISSUERS
 * (src/access/callers.ts decides which, and what each may ask for).
 */
export function requireIssuer(options: IssuerOptions): MiddlewareHandler<AppEnv> {
  return async function requireIssuer(c, next) {
    return admit(c, await issuingCaller(options, credentialsOf(c.req.raw)), "issuance", next);
  };
}
