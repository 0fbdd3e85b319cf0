import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { matchApiKey } from "../crypto/api-keys";
import { note } from "../observability/audit";
import { ServiceError } from "../ret-codes";
import { enforceRateLimit } from "./rate-limit";

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Requires `Authorization: Bearer <one of API_KEYS>` (compared in constant time), then
 * applies the per-key issuance limit: each enterprise backend has its own budget.
 */
export function requireApiKey(config: Config): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const presented = BEARER.exec(c.req.header("Authorization") ?? "")?.[1];
    const apiKeyIndex = presented ? await matchApiKey(config.apiKeys, presented) : 0;
    if (apiKeyIndex === 0) throw new ServiceError("unauthorized");
    await enforceRateLimit(c.env.ISSUE_LIMITER, `api-key:${apiKeyIndex}`, "ISSUE_LIMITER");
    c.set("apiKeyIndex", apiKeyIndex);
    note(c, { apiKey: apiKeyIndex });
    await next();
  };
}
