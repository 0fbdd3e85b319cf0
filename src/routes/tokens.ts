import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { limitBody, readJsonBody } from "../http/json-body";
import { NO_STORE } from "../http/respond";
import { requireApiKey } from "../middleware/api-key";
import { note } from "../observability/audit";
import { ServiceError } from "../ret-codes";
import { issueTokenRequest, tokenIdParam } from "../schemas";
import { issueToken } from "../tokens/issue-token";
import { revokeToken } from "../tokens/revoke-token";

/** `/v1/tokens`: the enterprise backend's side, behind an API key. */
export function tokensRoute(config: Config) {
  return new Hono<AppEnv>()
    .use(requireApiKey(config))
    .post("/", limitBody, async (c) => {
      const request = await readJsonBody(c, issueTokenRequest);
      note(c, { tenant: request.tenantSpaceId, userId: request.userId });
      const issued = await issueToken(config, c.env.TOKENS, request);
      note(c, { reason: "token issued", kid: config.signingKeys.current.kid });
      return c.json(issued, 201, NO_STORE);
    })
    .delete("/:tokenId", async (c) => {
      const tokenId = c.req.param("tokenId");
      if (!z.safeParse(tokenIdParam, tokenId).success) {
        throw new ServiceError("malformedRequest", "tokenId is not a token id");
      }
      await revokeToken(c.env.TOKENS, tokenId);
      note(c, { reason: "token revoked" });
      return c.body(null, 204, NO_STORE);
    });
}
