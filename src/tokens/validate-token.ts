import type { Config } from "../config/config";
import { KV_PROPAGATION_GRACE_SECONDS } from "../constants";
import type { Outcome } from "../ret-codes";
import { isRevokedForUser } from "../revocations/user-revocation";
import type { ValidateRequest } from "../schemas";
import { type TokenClaims, verifyToken } from "./token";
import { readTokenRecord, tokenRefOf } from "./token-store";

export type Verdict =
  | { readonly outcome: "ok"; readonly claims: TokenClaims; readonly kid: string }
  | { readonly outcome: Exclude<Outcome, "ok">; readonly reason: string };

/** The reason given for a revoked token: also a security event (revoked_token_presented). */
export const REVOKED = "token revoked";
/** The reason given for a token or session of a revoked user (POST /v1/revocations). */
export const USER_REVOKED = "user revoked";

const IDENTITY_FIELDS = ["userId", "userName", "tenantSpaceId"] as const;

/**
 * CEC's question, "is this token genuine, alive and issued to this user?", answered.
 * Cheap checks first; the two KV reads (the token's record, the user's revocation), made
 * together, come last and only for a correctly signed token. A KV failure throws
 * (service unavailable): it is not a verdict.
 */
export async function validateToken(
  config: Config,
  kv: KVNamespace,
  request: ValidateRequest,
  now = Math.floor(Date.now() / 1000),
): Promise<Verdict> {
  if (!config.tenantSpaceIds.has(request.tenantSpaceId)) {
    return { outcome: "tenantNotServed", reason: "tenantSpaceId" };
  }
  const check = await verifyToken(request.Token, {
    keys: config.signingKeys,
    clockToleranceSeconds: config.clockToleranceSeconds,
    maxAgeSeconds: config.tokenTtlSeconds,
  });
  if (!check.ok) return { outcome: check.outcome, reason: check.reason };

  const mismatched = IDENTITY_FIELDS.filter((field) => check.claims[field] !== request[field]);
  if (mismatched.length > 0) {
    return {
      outcome: "identityMismatch",
      reason: `${mismatched.join(", ")} not the one the token was issued for`,
    };
  }

  const { claims } = check;
  const [record, userRevoked] = await Promise.all([
    readTokenRecord(kv, await tokenRefOf(claims.tokenId)),
    isRevokedForUser(kv, claims, claims.issuedAt),
  ]);
  if (record?.state === "revoked") return { outcome: "tokenRevoked", reason: REVOKED };
  if (userRevoked) return { outcome: "tokenRevoked", reason: USER_REVOKED };
  // No record: KV may not have carried it here yet. See KV_PROPAGATION_GRACE_SECONDS.
  if (!record && now - claims.issuedAt > KV_PROPAGATION_GRACE_SECONDS) {
    return { outcome: "tokenRevoked", reason: "token unknown" };
  }
  return { outcome: "ok", claims, kid: check.kid };
}
