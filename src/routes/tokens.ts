import { type Context, Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { limitBody, readJsonBody } from "../http/json-body";
import { NO_STORE } from "../http/respond";
import { requireApiKey, requireCaller } from "../middleware/api-key";
import { note } from "../observability/audit";
import { ServiceError } from "../ret-codes";
import {
  type IssueTokenRequest,
  identityIssueTokenRequest,
  issueTokenRequest,
  tokenIdParam,
} from "../schemas";
import { issueToken } from "../tokens/issue-token";
import { revokeToken } from "../tokens/revoke-token";

/** `/v1/tokens`: issued to an enterprise backend (API key) or a signed-in user (identity token). */
export function tokensRoute(config: Config) {
  return new Hono<AppEnv>()
    .post("/", requireCaller(config), limitBody, async (c) => {
      const request = await issueRequestFor(config, c);
      note(c, { tenant: request.tenantSpaceId, userId: request.userId });
      const issued = await issueToken(config, c.env.TOKENS, request);
      note(c, { reason: "token issued", kid: config.signingKeys.current.kid });
      return c.json(issued, 201, NO_STORE);
    })
    .delete("/:tokenId", requireApiKey(config), async (c) => {
      const tokenId = c.req.param("tokenId");
      if (!z.safeParse(tokenIdParam, tokenId).success) {
        throw new ServiceError("malformedRequest", "tokenId is not a token id");
      }
      await revokeToken(c.env.TOKENS, tokenId);
      note(c, { reason: "token revoked" });
      return c.body(null, 204, NO_STORE);
    });
}

/**
 * What to issue. A backend names the user; a signed-in user gets a token for itself
 * only: the body may repeat its identity but not name another, and may ask only for a
 * tenant its identity provider is allowed to serve.
 */
async function issueRequestFor(config: Config, c: Context<AppEnv>): Promise<IssueTokenRequest> {
  const caller = c.var.caller;
  if (caller.kind === "apiKey") return readJsonBody(c, issueTokenRequest);
  const { identity } = caller;
  const body = await readJsonBody(c, identityIssueTokenRequest);
  for (const field of ["userId", "userName"] as const) {
    if (body[field] !== undefined && body[field] !== identity[field]) {
      throw new ServiceError("notPermitted", `${field} is not the signed-in user's`);
    }
  }
  if (!config.tenantSpaceIds.has(body.tenantSpaceId))
    throw new ServiceError("tenantNotServed", "tenantSpaceId");
  if (!identity.tenantSpaceIds.has(body.tenantSpaceId)) {
    throw new ServiceError("notPermitted", "tenantSpaceId is not allowed for this identity provider");
  }
  return { ...body, userId: identity.userId, userName: identity.userName };
}
