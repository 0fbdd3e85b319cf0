import { Hono } from "hono";
import * as z from "zod/mini";
import { issueBodyFor, permittedIssue } from "../../access/callers";
import type { Config } from "../../config/config";
import { refuse } from "../../core/decision";
import {
  identityIssueTokenRequest,
  issuedTokenAnswer,
  issueTokenRequest,
  parseInput,
  tokenIdParam,
} from "../../core/schemas";
import { revokeToken } from "../../domain/revocations/revoke-token";
import { issueToken } from "../../domain/tokens/issue-token";
import { note } from "../../observability/audit";
import { BODY_REFUSALS, type Operation } from "../../openapi/operation";
import { credentialState } from "../../state/state-for";
import { answer, NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";
import { limitBody, readJson } from "../json-body";
import { requireApiKey, requireIssuer } from "../middleware/require-caller";

/** `/v1/tokens`: issued to an enterprise backend (API key) or a signed-in user (identity token). */
export function tokensRoute(config: Config) {
  return new Hono<AppEnv>()
    .post("/", requireIssuer(issuerOptions(config)), limitBody, readJson, async (c) => {
      const { caller } = c.var;
      const body = parseInput(issueBodyFor(caller), c.var.json);
      if (body.outcome !== "ok") return answer(c, body);
      const permitted = permittedIssue(caller, body.value, config.tenantSpaceIds);
      if (permitted.outcome !== "ok") return answer(c, permitted);
      const { request, signedInAt } = permitted.value;
      note(c.var.audit, { tenant: request.tenantSpaceId, userId: request.userId });
      const result = await issueToken(config, credentialState(config, c.env), request, { signedInAt });
      if (result.outcome !== "ok") return answer(c, result);
      note(c.var.audit, { reason: "token issued", kid: config.signingKeys.current.kid });
      return c.json(result.value, 201, NO_STORE);
    })
    .delete("/:tokenId", requireApiKey({ apiKeys: config.apiKeys, budget: "ends" }), async (c) => {
      const tokenId = c.req.param("tokenId");
      if (!z.safeParse(tokenIdParam, tokenId).success) {
        return answer(c, refuse("malformedRequest", "tokenId is not a token id"));
      }
      const { caller } = c.var;
      const scope = caller.kind === "identity" ? undefined : caller.tenants;
      const revoked = await revokeToken(credentialState(config, c.env), tokenId, scope);
      if (revoked.outcome !== "ok") return answer(c, revoked);
      note(c.var.audit, { reason: "token revoked" });
      return c.body(null, 204, NO_STORE);
    });
}

const issuerOptions = ({ apiKeys, identityIssuers, clockToleranceSeconds }: Config) => ({
  apiKeys,
  identityIssuers,
  clockToleranceSeconds,
});

export const tokensOperations: readonly Operation[] = [
  {
    method: "post",
    path: "/v1/tokens",
    summary: "Issue a token",
    description:
      "With an API key the body names the user. With an identity token from IDENTITY_ISSUERS the user comes " +
      "from its claims; userId and userName may then be omitted (schema IdentityIssueTokenRequest).",
    security: "apiKeyOrIdentity",
    body: z.union([issueTokenRequest, identityIssueTokenRequest]),
    success: { 201: { description: "Issued", schema: issuedTokenAnswer } },
    refusals: [
      ...BODY_REFUSALS,
      "unauthorized",
      "identityInvalid",
      "identityProviderUnavailable",
      "notPermitted",
      "identityRevoked",
      "tenantNotServed",
      "rateLimited",
      "serviceUnavailable",
    ],
  },
  {
    method: "delete",
    path: "/v1/tokens/{tokenId}",
    summary: "Revoke a token",
    description:
      "From then on validation answers retCode 6, and so does every web-channel session the token opened. " +
      "A key scoped to tenants (API_KEY_SCOPES) gets 403, retCode 7, for another tenant's token, which keeps " +
      "validating; an id that names no token answers 204.",
    security: "apiKey",
    parameters: { tokenId: tokenIdParam },
    success: { 204: { description: "Revoked (idempotent)" } },
    refusals: ["malformedRequest", "unauthorized", "tenantNotServed", "rateLimited", "serviceUnavailable"],
  },
];
