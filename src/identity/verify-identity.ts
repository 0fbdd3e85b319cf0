import { createRemoteJWKSet, decodeJwt, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import * as z from "zod/mini";
import {
  IDENTITY_PROVIDER_BACKOFF_MS,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  JWKS_TIMEOUT_MS,
} from "../constants";
import { ServiceError } from "../ret-codes";
import { describeIssue, identity } from "../schemas";
import { UNKNOWN_KID } from "../tokens/token";
import { developmentKeySet } from "./development-idp";
import type { IdentityIssuer } from "./issuers";

/** Who the identity token says the caller is, and which tenants its issuer may serve. */
export interface VerifiedIdentity {
  readonly issuer: string;
  readonly userId: string;
  readonly userName: string;
  readonly tenantSpaceIds: ReadonlySet<string>;
}

interface KeySetEntry {
  readonly keySet: JWTVerifyGetKey;
  /** When the provider last failed us: no fetch is tried again before the backoff ends. */
  failedAt: number;
}

/**
 * One remote key set per JWKS URL, in isolate memory. jose caches the keys for
 * JWKS_CACHE_MAX_AGE_MS and refetches on an unknown `kid` at most once per
 * JWKS_COOLDOWN_MS, so random `kid`s cannot make us hammer the provider; a failed fetch
 * starts IDENTITY_PROVIDER_BACKOFF_MS during which we answer 503 without fetching.
 */
const keySets = new Map<string, KeySetEntry>();

function keySetFor(jwksUri: string): KeySetEntry {
  let entry = keySets.get(jwksUri);
  if (!entry) {
    entry = {
      keySet: createRemoteJWKSet(new URL(jwksUri), {
        cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
        cooldownDuration: JWKS_COOLDOWN_MS,
        timeoutDuration: JWKS_TIMEOUT_MS,
      }),
      failedAt: Number.NEGATIVE_INFINITY,
    };
    keySets.set(jwksUri, entry);
  }
  return entry;
}

/** Reasons for tokens no key can verify (security event identity_token_unusable). */
export const AMBIGUOUS_KEY = "no single key matches the token's header";
export const UNSUPPORTED_TOKEN = "token header not supported";

const refuse = (detail: string) => new ServiceError("identityInvalid", detail);
const unavailable = () => new ServiceError("identityProviderUnavailable");
/** A token no key can verify: its own problem, and worth a security event. */
const unusable = (detail: string) =>
  new ServiceError("identityInvalid", detail, { securityEvent: "identity_token_unusable" });

/** Whatever the key set threw while fetching or reading the provider's keys. */
class KeySetFailure extends Error {
  override readonly name = "KeySetFailure";
}

/**
 * The key set, with its failures sorted: a token that names no key, or no single key, or
 * an algorithm the set cannot serve, is refused as that token's; anything else it throws
 * (a fetch that failed or timed out, an answer that is not a key set, a key that cannot
 * be imported) is the provider's, and only that may start the backoff.
 */
function sortingFailures(keySet: JWTVerifyGetKey): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await keySet(header, token);
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

/**
 * Verifies an enterprise identity JWT. Cheap checks first (shape, a known `iss`), then
 * the signature against the issuer's keys with its algorithm allow-list, then `aud`,
 * `exp`, `nbf` and `iat` with the configured clock tolerance. Throws ServiceError.
 */
export async function verifyIdentity(
  token: string,
  issuers: readonly IdentityIssuer[],
  clockToleranceSeconds: number,
  now = Date.now(),
): Promise<VerifiedIdentity> {
  let claimedIssuer: unknown;
  try {
    claimedIssuer = decodeJwt(token).iss;
  } catch {
    throw refuse("not a JWT");
  }
  const issuer = issuers.find((candidate) => candidate.issuer === claimedIssuer);
  if (!issuer) throw refuse("issuer not accepted");

  const remote = issuer.jwksUri === undefined ? undefined : keySetFor(issuer.jwksUri);
  if (remote && now - remote.failedAt < IDENTITY_PROVIDER_BACKOFF_MS) throw unavailable();
  const keySet = remote?.keySet ?? (await developmentKeySet());

  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, sortingFailures(keySet), {
      issuer: issuer.issuer,
      audience: [...issuer.audience],
      algorithms: [...issuer.algorithms],
      clockTolerance: clockToleranceSeconds,
      requiredClaims: ["exp"],
    }));
  } catch (error) {
    if (error instanceof errors.JWTExpired) throw refuse("expired");
    if (error instanceof errors.JWKSNoMatchingKey) throw refuse(UNKNOWN_KID);
    if (error instanceof errors.JWSSignatureVerificationFailed) throw refuse("signature does not verify");
    if (error instanceof errors.JOSEAlgNotAllowed) throw refuse("algorithm not accepted");
    if (error instanceof errors.JWTClaimValidationFailed) throw refuse(`${error.claim} claim not accepted`);
    if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) throw refuse("malformed");
    if (error instanceof errors.JWKSMultipleMatchingKeys) throw unusable(AMBIGUOUS_KEY);
    if (error instanceof errors.JOSENotSupported) throw unusable(UNSUPPORTED_TOKEN);
    if (error instanceof KeySetFailure) {
      // The provider is down or broken, not the caller: back off.
      if (remote) remote.failedAt = now;
      throw unavailable();
    }
    // Any other failure is in verifying this token, not in reaching the provider.
    if (error instanceof errors.JOSEError) throw unusable(UNSUPPORTED_TOKEN);
    throw error;
  }
  const userId = payload[issuer.userIdClaim];
  const userName = payload[issuer.userNameClaim];
  if (typeof userId !== "string" || userId === "") throw refuse(`no ${issuer.userIdClaim} claim`);
  if (typeof userName !== "string" || userName === "") throw refuse(`no ${issuer.userNameClaim} claim`);
  return {
    issuer: issuer.issuer,
    // Prefixed first, so that the limits hold for the id the token will carry.
    userId: checkedClaim(identity.userId, `${issuer.userIdPrefix}${userId}`, issuer.userIdClaim),
    userName: checkedClaim(identity.userName, userName, issuer.userNameClaim),
    tenantSpaceIds: issuer.tenantSpaceIds,
  };
}

/**
 * A claim must obey the rules of the field it becomes (src/schemas.ts), or the token
 * issued from it could never validate: refused naming the claim, never its value.
 */
function checkedClaim(schema: z.ZodMiniType<string>, value: string, claim: string): string {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const [issue] = result.error.issues;
  throw refuse(issue ? describeIssue(`${claim} claim`, issue) : `${claim} claim is invalid`);
}
