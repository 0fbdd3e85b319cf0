import { Hono } from "hono";
import { sessionOpenLimit } from "../../access/rate-limits";
import type { Config } from "../../config/config";
import { retCodeBody } from "../../core/outcomes";
import { openedSessionAnswer, openSessionRequest, sessionIdentityAnswer } from "../../core/schemas";
import { endSession, openSession, renewSession, verifySession } from "../../domain/sessions/sessions";
import { note } from "../../observability/audit";
import { BODY_REFUSALS, type Operation, TOKEN_VERDICTS } from "../../openapi/operation";
import { credentialState } from "../../state/state-for";
import { answer, NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";
import { percentEncodeUtf8 } from "../header-value";
import { jsonBody, limitBody } from "../json-body";
import { requireSession } from "../middleware/require-session";
import { clearSessionCookie, presentedSessionValues, setSessionCookie } from "../session-cookie";
import { admitTokenAttempt } from "./token-attempt";

/**
 * `/v1/web-channel`: the `ccmessaging-token` session (Huawei, "Web Channel Interface
 * Authentication").
 */
export function webChannelRoute(config: Config) {
  const session = requireSession({
    verify: (c, values) => verifySession(config, credentialState(config, c.env), values),
    renew: (claims) => renewSession(config, claims),
    session: config.session,
  });
  return new Hono<AppEnv>()
    .post("/sessions", limitBody, jsonBody(openSessionRequest), async (c) => {
      const request = c.req.valid("json");
      // The channel is the caller's word until the session opens: logged only then.
      const refused = await admitTokenAttempt(c, request);
      if (refused) return refused;
      const opened = await openSession(config, credentialState(config, c.env), request, {
        budget: (user) => sessionOpenLimit(c.env.SESSION_LIMITER, user),
      });
      if (opened.outcome !== "ok") return answer(c, opened);
      note(c.var.audit, { outcome: "ok", reason: "session opened", channelId: request.channelId });
      const { claims, value } = opened.value;
      setSessionCookie(c, config.session, value, (claims.expireTime - claims.createTime) / 1000);
      const answered = {
        tenantId: claims.tenantId,
        channelId: claims.channelId,
        userId: claims.userId,
        expiresAt: new Date(claims.expireTime).toISOString(),
      };
      return c.json({ ...retCodeBody("ok"), session: answered }, 200, NO_STORE);
    })
    .get("/verify", session, (c) => {
      const { tenantId, channelId, userId } = c.var.session;
      // Percent-encoded UTF-8 (README, "Web-channel sessions"): any id a session holds fits a header.
      return c.body(null, 204, {
        ...NO_STORE,
        "X-CEC-Tenant-Id": percentEncodeUtf8(tenantId),
        "X-CEC-Channel-Id": percentEncodeUtf8(channelId),
        "X-CEC-User-Id": percentEncodeUtf8(userId),
      });
    })
    .get("/me", session, (c) => {
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
      // Idempotent: whatever was presented, the browser is told to drop the cookie. Only a
      // value we made, still alive, ends anything, and never a newer session than its own.
      const ended = await endSession(
        config,
        credentialState(config, c.env),
        presentedSessionValues(c.req.raw),
      );
      if (ended) {
        const { tenantId, channelId, userId } = ended;
        note(c.var.audit, { tenant: tenantId, channelId, userId, reason: "session ended" });
      }
      clearSessionCookie(c, config.session);
      return c.body(null, 204, NO_STORE);
    });
}

/** What a route behind requireSession can refuse. */
const SESSION_REFUSALS = [
  "credentialMissing",
  "tokenInvalid",
  "tokenExpired",
  "tokenRevoked",
  "rateLimited",
  "serviceUnavailable",
] as const;

const cookieSet = { "Set-Cookie": "ccmessaging-token, renewed in the session's last quarter" };

export const webChannelOperations: readonly Operation[] = [
  {
    method: "post",
    path: "/v1/web-channel/sessions",
    summary: "Open a web-channel session (sets the ccmessaging-token cookie)",
    security: "none",
    body: openSessionRequest,
    success: {
      200: {
        description: "Opened",
        schema: openedSessionAnswer,
        headers: { "Set-Cookie": "ccmessaging-token" },
      },
    },
    refusals: [
      ...BODY_REFUSALS,
      ...TOKEN_VERDICTS,
      "channelNotAllowed",
      "originNotAllowed",
      "rateLimited",
      "serviceUnavailable",
    ],
  },
  {
    method: "delete",
    path: "/v1/web-channel/sessions",
    summary: "End the web-channel session (clears the cookie)",
    description: "Final: no renewal, concurrent or later, brings the session back.",
    security: "none",
    success: { 204: { description: "Ended, or there was nothing to end" } },
    refusals: ["originNotAllowed", "rateLimited", "serviceUnavailable"],
  },
  {
    method: "get",
    path: "/v1/web-channel/verify",
    summary: "Verify the session (forward auth)",
    security: "session",
    success: {
      204: {
        description: "Valid",
        headers: {
          "X-CEC-Tenant-Id": "the tenant id, percent-encoded UTF-8 (RFC 3986; A-Z a-z 0-9 - . _ ~ kept)",
          "X-CEC-Channel-Id": "the channel id, encoded the same way",
          "X-CEC-User-Id": "the user id, encoded the same way",
          ...cookieSet,
        },
      },
    },
    refusals: SESSION_REFUSALS,
  },
  {
    method: "get",
    path: "/v1/web-channel/me",
    summary: "The session's identity",
    security: "session",
    success: { 200: { description: "The identity", schema: sessionIdentityAnswer, headers: cookieSet } },
    refusals: SESSION_REFUSALS,
  },
];
