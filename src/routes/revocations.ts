import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { limitBody, readJsonBody } from "../http/json-body";
import { NO_STORE } from "../http/respond";
import { requireApiKey } from "../middleware/api-key";
import { note } from "../observability/audit";
import { ServiceError } from "../ret-codes";
import { revokeUser } from "../revocations/user-revocation";
import { revokeUserRequest } from "../schemas";

/**
 * `/v1/revocations`: an enterprise backend ends everything one user holds (an employee
 * leaves, an account closes, a device is stolen). API key only, rate-limited per key as
 * issuance is; a signed-in user's identity token cannot call it.
 */
export function revocationsRoute(config: Config) {
  return new Hono<AppEnv>().post("/", requireApiKey(config), limitBody, async (c) => {
    const request = await readJsonBody(c, revokeUserRequest);
    if (!config.tenantSpaceIds.has(request.tenantSpaceId)) {
      throw new ServiceError("tenantNotServed", "tenantSpaceId");
    }
    note(c, { tenant: request.tenantSpaceId, userId: request.userId });
    const revokedBefore = await revokeUser(c.env.TOKENS, request);
    note(c, { reason: "user revoked" });
    return c.json({ revokedBefore: new Date(revokedBefore * 1000).toISOString() }, 200, NO_STORE);
  });
}
