import { createRemoteJWKSet, decodeJwt, errors, type JWTVerifyGetKey, jwtVerify } from "jose";
import {
  IDENTITY_PROVIDER_BACKOFF_MS,
  JWKS_CACHE_MAX_AGE_MS,
  JWKS_COOLDOWN_MS,
  JWKS_TIMEOUT_MS,
} from "../constants";
import { ServiceError } from "../ret-codes";
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

const refuse = (detail: string) => new ServiceError("identityInvalid", detail);
const unavailable = () => new ServiceError("identityProviderUnavailable");

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
    ({ payload } = await jwtVerify(token, keySet, {
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
    // Anything else came from fetching the key set: a timeout, a network error, a non-200
    // answer or one that is not a JWKS. The provider is down or broken, not the caller.
    if (remote) remote.failedAt = now;
    throw unavailable();
  }
  const userId = payload[issuer.userIdClaim];
  const userName = payload[issuer.userNameClaim];
  if (typeof userId !== "string" || userId === "") throw refuse(`no ${issuer.userIdClaim} claim`);
  if (typeof userName !== "string" || userName === "") throw refuse(`no ${issuer.userNameClaim} claim`);
  return { issuer: issuer.issuer, userId, userName, tenantSpaceIds: issuer.tenantSpaceIds };
}
