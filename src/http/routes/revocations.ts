import { Hono } from "hono";
import { outOfScope } from "../../access/callers";
import type { Config } from "../../config/config";
import { revokeUserRequest, userRevocationAnswer } from "../../core/schemas";
import { revokeUser } from "../../domain/revocations/revoke-user";
import { note } from "../../observability/audit";
import { BODY_REFUSALS, type Operation } from "../../openapi/operation";
import { credentialState } from "../../state/state-for";
import { answer, NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody } from "../json-body";
import { requireApiKey } from "../middleware/require-caller";

/**
 * `/v1/revocations`: an enterprise backend ends everything one user holds. API key
 * only, spending the key's budget for ends (never its issuance budget); a signed-in
 * user's identity token cannot call it.
 */
export function revocationsRoute(config: Config) {
  return new Hono<AppEnv>().post(
    "/",
    requireApiKey({ apiKeys: config.apiKeys, budget: "ends" }),
    limitBody,
    jsonBody(revokeUserRequest),
    async (c) => {
      const request = c.req.valid("json");
      note(c.var.audit, { tenant: request.tenantSpaceId, userId: request.userId });
      const scoped = outOfScope(c.var.caller, request.tenantSpaceId);
      if (scoped) return answer(c, scoped);
      const result = await revokeUser(config, credentialState(config, c.env), request);
      if (result.outcome !== "ok") return answer(c, result);
      note(c.var.audit, { reason: "user revoked" });
      return c.json({ revokedBefore: new Date(result.value * 1000).toISOString() }, 200, NO_STORE);
    },
  );
}

export const revocationsOperations: readonly Operation[] = [
  {
    method: "post",
    path: "/v1/revocations",
    summary: "Revoke a user: every token and session issued to them until now",
    description:
      "Every token issued to the user in the tenant at or before revokedBefore fails validation (retCode 6), " +
      "and every web-channel session opened at or before it fails verification. A token issued from the next " +
      "second on works normally. Idempotent; a later call moves revokedBefore forward.",
    security: "apiKey",
    body: revokeUserRequest,
    success: { 200: { description: "Revoked", schema: userRevocationAnswer } },
    refusals: [...BODY_REFUSALS, "unauthorized", "tenantNotServed", "rateLimited", "serviceUnavailable"],
  },
];
