import type * as z from "zod/mini";
import type { Config } from "../../config/config";
import { type Decision, ok, refuse } from "../../core/decision";
import type { IssueTokenRequest, issuedTokenAnswer } from "../../core/schemas";
import { nowSeconds } from "../../core/time";
import type { CredentialState } from "../../state/credential-state";
import { unservedTenant } from "../tenants";
import { signToken } from "./token";

/** `expiresIn`: seconds from now; may be less than asked for (never more than TOKEN_TTL_SECONDS). */
export type IssuedToken = z.output<typeof issuedTokenAnswer>;

/** The lifetime granted: what was asked for, capped at the configured maximum. */
export function grantedTtl(requested: number | undefined, maximum: number): number {
  return Math.min(requested ?? maximum, maximum);
}

/**
 * Signs a token for the identity and records it. The record is written before the token
 * is returned: a token whose record could not be written is never handed out. Whoever
 * calls has already been allowed to ask for this identity (src/access). `signedInAt`
 * (seconds) is when a signed-in user proved who they are: a user revoked since then gets
 * nothing and must sign in again (an API-key backend names users itself, and is trusted to).
 */
export async function issueToken(
  config: Config,
  state: CredentialState,
  request: IssueTokenRequest,
  { signedInAt, now = nowSeconds() }: { signedInAt?: number | undefined; now?: number } = {},
): Promise<Decision<IssuedToken>> {
  const unserved = unservedTenant(config, request.tenantSpaceId);
  if (unserved) return unserved;
  // A user revoked before the last consistency switch was revoked in the other mode's
  // store, which this mode never reads: a sign-in from before the switch is not enough.
  const { startedAt } = config.consistency;
  if (signedInAt !== undefined && startedAt !== undefined && signedInAt < startedAt) {
    return refuse("identityRevoked", "identity token issued before the consistency mode changed");
  }
  const expiresIn = grantedTtl(request.ttlSeconds, config.tokenTtlSeconds);
  const facts = {
    tokenId: await state.newTokenId(request),
    tenantSpaceId: request.tenantSpaceId,
    userId: request.userId,
    issuedAt: now,
    expiresAt: now + expiresIn,
    signedInAt,
  };
  const token = await signToken(config.signingKeys, {
    ...facts,
    userName: request.userName,
    epoch: config.consistency.epoch,
  });
  if ((await state.recordIssued(facts, signedInAt)) === "userRevoked") {
    return refuse("identityRevoked", "identity token issued before the user was revoked", {
      securityEvent: "revoked_identity_presented",
    });
  }
  const expiresAt = new Date(facts.expiresAt * 1000).toISOString();
  return ok({ token, tokenId: facts.tokenId, expiresAt, expiresIn });
}
