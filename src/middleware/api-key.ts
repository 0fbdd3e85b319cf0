import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { matchApiKey } from "../crypto/api-keys";
import { sha256Base64url } from "../crypto/encoding";
import { verifyIdentity } from "../identity/verify-identity";
import { note } from "../observability/audit";
import { ServiceError } from "../ret-codes";
import { enforceRateLimit } from "./rate-limit";

const BEARER = /^Bearer +(\S+) *$/i;
/** A compact JWS: what an identity token looks like, and an API key never does. */
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const ACCESS_HEADER = "Cf-Access-Jwt-Assertion";

const bearerOf = (c: Context) => BEARER.exec(c.req.header("Authorization") ?? "")?.[1];

/** Checks an API key in constant time; the per-key issuance limit follows. */
async function authenticateApiKey(config: Config, c: Context<AppEnv>, presented: string | undefined) {
  const apiKeyIndex = presented ? await matchApiKey(config.apiKeys, presented) : 0;
  if (apiKeyIndex === 0) {
    // Same answer either way; only a credential actually presented is a guess worth an event.
    const attempted = c.req.header("Authorization") !== undefined;
    throw new ServiceError("unauthorized", undefined, attempted ? { securityEvent: "api_key_rejected" } : {});
  }
  note(c, { apiKey: apiKeyIndex });
  await enforceRateLimit(c.env.ISSUE_LIMITER, `api-key:${apiKeyIndex}`, "ISSUE_LIMITER");
  c.set("caller", { kind: "apiKey", index: apiKeyIndex });
}

/**
 * Requires `Authorization: Bearer <one of API_KEYS>`: the enterprise backend's routes.
 * Each API key has its own issuance budget (ISSUE_LIMITER).
 */
export function requireApiKey(config: Config): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    await authenticateApiKey(config, c, bearerOf(c));
    await next();
  };
}

/**
 * `POST /v1/tokens` accepts either an API key (an enterprise backend) or an identity JWT
 * from one of IDENTITY_ISSUERS (an enterprise front end, for its own signed-in user):
 * `Authorization: Bearer <JWT>`, or Cloudflare Access's `Cf-Access-Jwt-Assertion`
 * where an issuer with `source: "cloudflare-access"` is configured. A verified identity
 * has its own issuance budget, keyed on who it is.
 */
export function requireCaller(config: Config): MiddlewareHandler<AppEnv> {
  const bearerIssuers = config.identityIssuers.filter((issuer) => issuer.source === "authorization");
  const accessIssuers = config.identityIssuers.filter((issuer) => issuer.source === "cloudflare-access");
  return async (c, next) => {
    const bearer = bearerOf(c);
    const access = c.req.header(ACCESS_HEADER);
    const identityToken =
      bearer && JWT.test(bearer) && bearerIssuers.length > 0
        ? { token: bearer, issuers: bearerIssuers }
        : !bearer && access && accessIssuers.length > 0
          ? { token: access, issuers: accessIssuers }
          : undefined;
    if (!identityToken) {
      await authenticateApiKey(config, c, bearer);
      return next();
    }
    const identity = await verifyIdentity(
      identityToken.token,
      identityToken.issuers,
      config.clockToleranceSeconds,
    );
    note(c, { userId: identity.userId, identityIssuer: identity.issuer });
    const who = await sha256Base64url(JSON.stringify([identity.issuer, identity.userId]));
    await enforceRateLimit(c.env.ISSUE_LIMITER, `identity:${who}`, "ISSUE_LIMITER");
    c.set("caller", { kind: "identity", identity });
    await next();
  };
}
