import type { Context, MiddlewareHandler } from "hono";
import type { SessionConfig } from "../../config/config";
import { type Decision, refuse } from "../../core/decision";
import type { SessionClaims } from "../../domain/sessions/session-value";
import type { OpenedSession } from "../../domain/sessions/sessions";
import { note } from "../../observability/audit";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";
import { presentedSessionValues, setSessionCookie } from "../session-cookie";

export interface RequireSessionOptions {
  /** Decides a presented `ccmessaging-token` value (src/domain/sessions/sessions.ts `verifySession`). */
  readonly verify: (c: Context<AppEnv>, values: readonly string[]) => Promise<Decision<SessionClaims>>;
  /** A renewed session when one is due, else undefined (`renewSession`). */
  readonly renew: (claims: SessionClaims) => Promise<OpenedSession | undefined>;
  /** The cookie's attributes, for the renewed cookie. */
  readonly session: SessionConfig;
}

/**
 * Requires a valid `ccmessaging-token` (cookie or header). The handler finds the
 * session's claims in `c.var.session`. A session in the last part of its life is renewed
 * on the way out: the response carries a fresh cookie with the same session id.
 *
 * @example
 * app.get("/v1/web-channel/me", requireSession(options), (c) => c.json(c.var.session))
 */
export function requireSession(options: RequireSessionOptions): MiddlewareHandler<AppEnv> {
  return async function requireSession(c, next) {
    const values = presentedSessionValues(c.req.raw);
    if (values.length === 0)
      return answer(c, refuse("credentialMissing", "no ccmessaging-token cookie or header"));
    const verified = await options.verify(c, values);
    if (verified.outcome !== "ok") return answer(c, verified);
    const claims = verified.value;
    note(c.var.audit, { tenant: claims.tenantId, channelId: claims.channelId, userId: claims.userId });
    c.set("session", claims);
    await next();
    if (c.res.status >= 400) return;
    const renewed = await options.renew(claims);
    if (renewed) {
      setSessionCookie(c, options.session, renewed.value, (renewed.claims.expireTime - Date.now()) / 1000);
    }
  };
}
