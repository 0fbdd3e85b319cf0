import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { sha256Base64url } from "../crypto/encoding";
import { limitBody, readJsonBody } from "../http/json-body";
import { retCodeResponse } from "../http/respond";
import { enforceRateLimit } from "../middleware/rate-limit";
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
    // Keyed on the token tried, not the caller: CEC speaks for every visitor.
    await enforceRateLimit(
      c.env.TOKEN_LIMITER,
      `token:${await sha256Base64url(request.Token)}`,
      "TOKEN_LIMITER",
    );
    const verdict = await validateToken(config, c.env.TOKENS, request);
    if (verdict.outcome === "ok") return retCodeResponse("ok");
    return retCodeResponse(verdict.outcome, { detail: verdict.reason, status: 200 });
  });
}
