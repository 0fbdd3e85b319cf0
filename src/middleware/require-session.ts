import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { note } from "../observability/audit";
import { ServiceError } from "../ret-codes";
import { presentedSessionValue, setSessionCookie } from "../sessions/session-cookie";
import { renewSession, verifySession } from "../sessions/sessions";

/**
 * Requires a valid `ccmessaging-token` (cookie or header). The handler finds the
 * session's claims in `c.var.session`. A session in the last part of its life is renewed
 * on the way out: the response carries a fresh cookie with the same session id.
 *
 * @example
 * app.get("/v1/web-channel/me", requireSession(config), (c) => c.json(c.var.session))
 */
export function requireSession(config: Config): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const value = presentedSessionValue(c.req.raw);
    if (!value)
      throw new ServiceError("malformedRequest", "no ccmessaging-token cookie or header", { status: 401 });
    const verdict = await verifySession(config, c.env.TOKENS, value);
    if (verdict.outcome !== "ok") throw new ServiceError(verdict.outcome, verdict.reason);
    const { tenantId, channelId, userId } = verdict.claims;
    note(c, { tenant: tenantId, channelId, userId });
    c.set("session", verdict.claims);
    await next();
    if (c.res.status >= 400) return;
    const renewed = await renewSession(config, verdict.claims);
    if (renewed)
      setSessionCookie(c, config.session, renewed.value, (renewed.claims.expireTime - Date.now()) / 1000);
  };
}
