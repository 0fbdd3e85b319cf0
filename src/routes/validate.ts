import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { limitBody, readJsonBody } from "../http/json-body";
import { respond } from "../http/respond";
import { enforceTokenLimit } from "../middleware/rate-limit";
import { note } from "../observability/audit";
import { validateRequest } from "../schemas";
import { validateToken } from "../tokens/validate-token";

/**
 * CEC's validate call (first seed, Tables 1 and 2). Every verdict about the token is
 * HTTP 200 with its `retCode`; only failures of the call itself (malformed request,
 * rate limited, unavailable) use another status. See the README's retCode table.
 */
export function validateRoute(config: Config) {
  return new Hono<AppEnv>().post("/", limitBody, async (c) => {
    const request = await readJsonBody(c, validateRequest);
    note(c, { tenant: request.tenantSpaceId, userId: request.userId });
    await enforceTokenLimit(c.env, request.Token);
    const verdict = await validateToken(config, c.env.TOKENS, request);
    if (verdict.outcome === "ok") {
      note(c, { kid: verdict.kid });
      return respond(c, "ok");
    }
    return respond(c, verdict.outcome, { detail: verdict.reason, status: 200 });
  });
}
