import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { percentEncodeUtf8 } from "../http/header-value";
import { limitBody, readJsonBody } from "../http/json-body";
import { NO_STORE, respond } from "../http/respond";
import { enforceTokenLimit } from "../middleware/rate-limit";
import { requireSession } from "../middleware/require-session";
import { note } from "../observability/audit";
import { retCodeBody } from "../ret-codes";
import { openSessionRequest } from "../schemas";
import { clearSessionCookie, presentedSessionValue, setSessionCookie } from "../sessions/session-cookie";
import { endSession, openSession, verifySession } from "../sessions/sessions";

/** `/v1/web-channel`: the `ccmessaging-token` session (second seed). */
export function webChannelRoute(config: Config) {
  return new Hono<AppEnv>()
    .post("/sessions", limitBody, async (c) => {
      const request = await readJsonBody(c, openSessionRequest);
      // The channel is the caller's word until the session opens: logged only then.
      note(c, { tenant: request.tenantSpaceId, userId: request.userId });
      await enforceTokenLimit(c.env, request.Token);
      const opened = await openSession(config, c.env.TOKENS, request);
      if (opened.outcome !== "ok") return respond(c, opened.outcome, { detail: opened.reason });
      note(c, { outcome: "ok", reason: "session opened", channelId: request.channelId });
      const { claims, value } = opened;
      setSessionCookie(c, config.session, value, (claims.expireTime - claims.createTime) / 1000);
      const session = {
        tenantId: claims.tenantId,
        channelId: claims.channelId,
        userId: claims.userId,
        expiresAt: new Date(claims.expireTime).toISOString(),
      };
      return c.json({ ...retCodeBody("ok"), session }, 200, NO_STORE);
    })
    .get("/verify", requireSession(config), (c) => {
      const { tenantId, channelId, userId } = c.var.session;
      // Percent-encoded UTF-8 (README, "Web-channel sessions"): any id a session holds fits a header.
      return c.body(null, 204, {
        ...NO_STORE,
        "X-CEC-Tenant-Id": percentEncodeUtf8(tenantId),
        "X-CEC-Channel-Id": percentEncodeUtf8(channelId),
        "X-CEC-User-Id": percentEncodeUtf8(userId),
      });
    })
    .get("/me", requireSession(config), (c) => {
      const { tenantId, channelId, userId, createTime, expireTime } = c.var.session;
      return c.json(
        {
          tenantId,
          channelId,
          userId,
          createdAt: new Date(createTime).toISOString(),
          expiresAt: new Date(expireTime).toISOString(),
        },
        200,
        NO_STORE,
      );
    })
    .delete("/sessions", async (c) => {
      // Idempotent: whatever was presented, the browser is told to drop the cookie; a
      // session is ended only by a value that verifies, so a stale cookie cannot end a newer one.
      const value = presentedSessionValue(c.req.raw);
      const verdict = value ? await verifySession(config, c.env.TOKENS, value) : undefined;
      if (verdict?.outcome === "ok") {
        const { tenantId, channelId, userId } = verdict.claims;
        note(c, { tenant: tenantId, channelId, userId, reason: "session ended" });
        await endSession(config, c.env.TOKENS, verdict.claims);
      }
      clearSessionCookie(c, config.session);
      return c.body(null, 204, NO_STORE);
    });
}
