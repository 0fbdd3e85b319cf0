import type * as z from "zod/mini";
import type { Config } from "../config/config";
import { TOKEN_ID_BYTES } from "../constants";
import { randomBase64url } from "../crypto/encoding";
import { recordExpiration } from "../kv";
import { ServiceError } from "../ret-codes";
import type { IssueTokenRequest, issuedTokenAnswer } from "../schemas";
import { signToken } from "./token";
import { writeTokenRecord } from "./token-store";

/** `expiresIn`: seconds from now; may be less than asked for (never more than TOKEN_TTL_SECONDS). */
export type IssuedToken = z.output<typeof issuedTokenAnswer>;

/** The lifetime granted: what was asked for, capped at the configured maximum. */
export function grantedTtl(requested: number | undefined, maximum: number): number {
  return Math.min(requested ?? maximum, maximum);
}

/**
 * Signs a token for the identity and writes its record. The record is written before
 * the token is returned: a token whose record could not be written is never handed out.
 */
export async function issueToken(
  config: Config,
  kv: KVNamespace,
  request: IssueTokenRequest,
  now = Math.floor(Date.now() / 1000),
): Promise<IssuedToken> {
  if (!config.tenantSpaceIds.has(request.tenantSpaceId)) {
    throw new ServiceError("tenantNotServed", "tenantSpaceId");
  }
  const expiresIn = grantedTtl(request.ttlSeconds, config.tokenTtlSeconds);
  const tokenId = randomBase64url(TOKEN_ID_BYTES);
  const expiresAt = now + expiresIn;
  const token = await signToken(config.signingKeys, {
    tokenId,
    userId: request.userId,
    userName: request.userName,
    tenantSpaceId: request.tenantSpaceId,
    issuedAt: now,
    expiresAt,
  });
  const lastValidSecond = expiresAt + config.clockToleranceSeconds;
  await writeTokenRecord(
    kv,
    tokenId,
    { state: "issued", exp: expiresAt },
    recordExpiration(lastValidSecond, now),
  );
  return { token, tokenId, expiresAt: new Date(expiresAt * 1000).toISOString(), expiresIn };
}
