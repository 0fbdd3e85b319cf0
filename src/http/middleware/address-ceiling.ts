import type { MiddlewareHandler } from "hono";
import { rateLimit } from "../../access/rate-limits";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";
import { clientAddressKey } from "../client-address";

/**
 * The generous per-address ceiling (ADDRESS_LIMITER) every route that does work sits
 * behind. Only a ceiling: CEC speaks for every visitor from a few addresses, so the
 * real limits key on what an attacker controls (the token, the API key, the identity).
 */
export function addressCeiling(): MiddlewareHandler<AppEnv> {
  return async function addressCeiling(c, next) {
    const refusal = await rateLimit(
      c.env.ADDRESS_LIMITER,
      `address:${clientAddressKey(c.req.raw)}`,
      "ADDRESS_LIMITER",
    );
    if (refusal) return answer(c, refusal);
    await next();
  };
}
