import type { Config } from "../../config/config";
import { type Decision, type Refusal, refuse } from "../../core/decision";
import type { ValidateRequest } from "../../core/schemas";
import { nowSeconds } from "../../core/time";
import type { CredentialState, TokenFacts, TokenStanding } from "../../state/credential-state";
import { unservedTenant } from "../tenants";
import { type TokenClaims, type VerifiedToken, verifyToken } from "./token";

const IDENTITY_FIELDS = ["userId", "userName", "tenantSpaceId"] as const;

/**
 * CEC's question, "is this token genuine, alive and issued to this user?", answered.
 * Cheap checks first; the state (KV reads, or one ledger call) comes last and only for a
 * correctly signed token that names this user. A store failure throws: it is not a decision.
 */
export async function validateToken(
  config: Config,
  state: CredentialState,
  request: ValidateRequest,
  now = nowSeconds(),
): Promise<Decision<VerifiedToken>> {
  const check = await checkToken(config, request);
  if (check.outcome !== "ok") return check;
  const standing = await state.useToken(tokenFacts(check.value.claims), now);
  return standing === "ok" ? check : refusalFor(standing);
}

/**
 * Everything about a token that needs no state: the tenant, the signature and claims,
 * that it was issued for exactly this identity, and in this consistency epoch.
 */
export async function checkToken(config: Config, request: ValidateRequest): Promise<Decision<VerifiedToken>> {
  const unserved = unservedTenant(config, request.tenantSpaceId);
  if (unserved) return unserved;
  const check = await verifyToken(request.Token, {
    keys: config.signingKeys,
    clockToleranceSeconds: config.clockToleranceSeconds,
    maxAgeSeconds: config.tokenTtlSeconds,
  });
  if (check.outcome !== "ok") return check;
  const { claims } = check.value;
  const mismatched = IDENTITY_FIELDS.filter((field) => claims[field] !== request[field]);
  if (mismatched.length > 0) {
    return refuse("identityMismatch", `${mismatched.join(", ")} not the one the token was issued for`);
  }
  // Issued under another mode (or an earlier period of this one): its ends were kept elsewhere.
  if (claims.epoch !== config.consistency.epoch) {
    return refuse("tokenRevoked", "token issued before the consistency mode changed");
  }
  return check;
}

export function tokenFacts(claims: TokenClaims): TokenFacts {
  const { tokenId, tenantSpaceId, userId, issuedAt, expiresAt, signedInAt } = claims;
  return { tokenId, tenantSpaceId, userId, issuedAt, expiresAt, signedInAt };
}

const revokedPresented = { securityEvent: "revoked_token_presented" } as const;

/** What the state's answer about a token means to its holder. */
export function refusalFor(standing: Exclude<TokenStanding, "ok">): Refusal {
  switch (standing) {
    case "revoked":
      return refuse("tokenRevoked", "token revoked", revokedPresented);
    case "userRevoked":
      return refuse("tokenRevoked", "user revoked", revokedPresented);
    case "unknown":
      return refuse("tokenRevoked", "token unknown");
    case "used":
      return refuse("tokenAlreadyUsed");
  }
}
