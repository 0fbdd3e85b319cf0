import { decodeJwt, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import * as z from "zod/mini";
import { type Decision, ok, type Refusal, refuse } from "../core/decision";
import { Unavailable } from "../core/failures";
import { describeIssue, identity } from "../core/schemas";
import type { IdentityIssuer } from "./issuers";

/** Who the identity token says the caller is, and which tenants its issuer may serve. */
export interface VerifiedIdentity {
  readonly issuer: string;
  readonly userId: string;
  readonly userName: string;
  readonly tenantSpaceIds: ReadonlySet<string>;
  /**
   * When the user last proved who they are (seconds): the token's `iat`, or its
   * `auth_time` when earlier. A user revoked at or after it must sign in again.
   */
  readonly signedInAt: number;
}

/** After a failed key-set fetch, answer 503 for this long without fetching again. */
const PROVIDER_BACKOFF_MS = 5 * 1000;

const invalid = (reason: string) => refuse("identityInvalid", reason);
/** A token no key can verify: its own problem, and worth a security event. */
const unusable = (reason: string) =>
  refuse("identityInvalid", reason, { securityEvent: "identity_token_unusable" });

/** Whatever the key source threw while fetching or reading the provider's keys. */
class KeySetFailure extends Error {
  override readonly name = "KeySetFailure";
}

/**
 * The key source, with its failures sorted: a token that names no key, or no single key,
 * or an algorithm the set cannot serve, is refused as that token's; anything else it
 * throws (a fetch that failed or timed out, an answer that is not a key set, a key that
 * cannot be imported) is the provider's, and only that may start the backoff.
 */
function sortingFailures(resolve: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await resolve(header, token);
    } catch (error) {
      if (
        error instanceof errors.JWKSNoMatchingKey ||
        error instanceof errors.JWKSMultipleMatchingKeys ||
        error instanceof errors.JOSENotSupported
      ) {
        throw error;
      }
      throw new KeySetFailure("key set unavailable", { cause: error });
    }
  };
}

/** What jose's refusal of a token means, or undefined for a failure that is not the token's. */
function refusalOf(error: unknown): Refusal | undefined {
  if (error instanceof errors.JWTExpired) return invalid("expired");
  if (error instanceof errors.JWKSNoMatchingKey) {
    return refuse("identityInvalid", "unknown key id", { securityEvent: "unknown_kid" });
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("signature does not verify");
  if (error instanceof errors.JOSEAlgNotAllowed) return invalid("algorithm not accepted");
  if (error instanceof errors.JWTClaimValidationFailed) {
    return invalid(`${error.claim} claim ${error.reason === "missing" ? "is required" : "not accepted"}`);
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) return invalid("malformed");
  if (error instanceof errors.JWKSMultipleMatchingKeys)
    return unusable("no single key matches the token's header");
  if (error instanceof KeySetFailure) return undefined;
  // Any other jose failure is in verifying this token, not in reaching the provider.
  if (error instanceof errors.JOSEError) return unusable("token header not supported");
  return undefined;
}

/**
 * Verifies an enterprise identity JWT. Cheap checks first (shape, a known `iss`), then
 * the signature against the issuer's keys with its algorithm allow-list, then `aud`,
 * `exp`, `nbf` and `iat` with the configured clock tolerance, then the claims the token
 * will carry. A provider that cannot serve its keys throws Unavailable (503,
 * retCode 13) and is not asked again for PROVIDER_BACKOFF_MS.
 */
export async function verifyIdentity(
  token: string,
  issuers: readonly IdentityIssuer[],
  clockToleranceSeconds: number,
  now = Date.now(),
): Promise<Decision<VerifiedIdentity>> {
  let claimedIssuer: unknown;
  try {
    claimedIssuer = decodeJwt(token).iss;
  } catch {
    return invalid("not a JWT");
  }
  const issuer = issuers.find((candidate) => candidate.issuer === claimedIssuer);
  if (!issuer) return invalid("issuer not accepted");
  const { keySource } = issuer;
  if (now - keySource.failedAt < PROVIDER_BACKOFF_MS) throw providerDown("in backoff");

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, sortingFailures(keySource.resolve), {
      issuer: issuer.issuer,
      audience: [...issuer.audience],
      algorithms: [...issuer.algorithms],
      clockTolerance: clockToleranceSeconds,
      // `iat` is how a revoked user's old identity tokens are told from new ones.
      requiredClaims: ["exp", "iat"],
    }));
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal) return refusal;
    if (!(error instanceof KeySetFailure)) throw error;
    // The provider is down or broken, not the caller: back off.
    keySource.failedAt = now;
    throw providerDown("key set could not be fetched or read");
  }
  return identityFrom(issuer, payload);
}

const providerDown = (failure: string) =>
  new Unavailable("identity-provider", "fetch identity provider keys", failure);

function identityFrom(issuer: IdentityIssuer, payload: Record<string, unknown>): Decision<VerifiedIdentity> {
  const userId = payload[issuer.userIdClaim];
  const userName = payload[issuer.userNameClaim];
  if (typeof userId !== "string" || userId === "") return invalid(`no ${issuer.userIdClaim} claim`);
  if (typeof userName !== "string" || userName === "") return invalid(`no ${issuer.userNameClaim} claim`);
  // Prefixed first, so that the limits hold for the id the token will carry.
  const checkedId = checkedClaim(identity.userId, `${issuer.userIdPrefix}${userId}`, issuer.userIdClaim);
  if (checkedId.outcome !== "ok") return checkedId;
  const checkedName = checkedClaim(identity.userName, userName, issuer.userNameClaim);
  if (checkedName.outcome !== "ok") return checkedName;
  // jose has checked that `iat` is a number; `auth_time` (OpenID Connect) is optional.
  const { iat, auth_time: authTime } = payload;
  if (authTime !== undefined && (typeof authTime !== "number" || !Number.isFinite(authTime))) {
    return invalid("auth_time claim not accepted");
  }
  return ok({
    issuer: issuer.issuer,
    userId: checkedId.value,
    userName: checkedName.value,
    tenantSpaceIds: issuer.tenantSpaceIds,
    signedInAt: Math.min(iat as number, authTime ?? Number.POSITIVE_INFINITY),
  });
}

/**
 * A claim must obey the rules of the field it becomes (src/core/schemas.ts), or the token
 * issued from it could never validate: refused naming the claim, never its value.
 */
function checkedClaim(schema: z.ZodMiniType<string>, value: string, claim: string): Decision<string> {
  const result = z.safeParse(schema, value);
  if (result.success) return ok(result.data);
  const [issue] = result.error.issues;
  return invalid(issue ? describeIssue(`${claim} claim`, issue) : `${claim} claim is invalid`);
}
