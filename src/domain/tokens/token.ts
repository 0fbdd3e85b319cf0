import { errors, type JWTHeaderParameters, jwtVerify, SignJWT } from "jose";
import { MAX_TOKEN_LENGTH } from "../../core/constants";
import { type Decision, ok, type Refusal, refuse } from "../../core/decision";
import type { SigningKeyRing } from "../../crypto/signing-keys";

/** The issuer and type written into every token, and required of every token verified. */
const TOKEN_ISSUER = "cec-edge-token";

const TOKEN_TYPE = "cec-chat+jwt";

/** The only algorithm we sign or accept. */
const TOKEN_ALGORITHM = "HS256";

/** What a token asserts: who it was issued for, and when it lives. */
export interface TokenClaims {
  readonly tokenId: string;
  readonly userId: string;
  readonly userName: string;
  readonly tenantSpaceId: string;
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** The consistency epoch it was issued in (Config.consistency.epoch). */
  readonly epoch: string;
  /**
   * Seconds: when the user signed in, for a token issued from an identity token (JWT
   * `auth_time`). A user revocation refuses the token when this is at or before it, so a
   * location that issued it before the revocation reached it gives no way around it.
   */
  readonly signedInAt?: number | undefined;
}

/** A token that verified: its claims, and the `kid` of the key that signed it. */
export interface VerifiedToken {
  readonly claims: TokenClaims;
  readonly kid: string;
}

export interface VerifyOptions {
  readonly keys: SigningKeyRing;
  readonly clockToleranceSeconds: number;
  /** No token may be older than the longest lifetime we issue. */
  readonly maxAgeSeconds: number;
}

/**
 * An HS256 signature is 32 bytes: 43 base64url characters, the last carrying 2 unused
 * bits that must be zero. Decoders ignore those bits, so without this check four
 * different strings would carry the same valid signature.
 */
const CANONICAL_SIGNATURE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Claim names inside the JWT. `sub` is the user id; the rest are ours. */
const CLAIM = { userName: "name", tenantSpaceId: "tenant_space_id", epoch: "cns" } as const;

/** The epoch of tokens issued before tokens carried one: only eventual mode had run then. */
const EPOCH_BEFORE_EPOCHS = "eventual";

export function signToken(keys: SigningKeyRing, claims: TokenClaims): Promise<string> {
  return new SignJWT({
    [CLAIM.userName]: claims.userName,
    [CLAIM.tenantSpaceId]: claims.tenantSpaceId,
    [CLAIM.epoch]: claims.epoch,
    ...(claims.signedInAt !== undefined && { auth_time: claims.signedInAt }),
  })
    .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: TOKEN_TYPE, kid: keys.current.kid })
    .setIssuer(TOKEN_ISSUER)
    .setSubject(claims.userId)
    .setJti(claims.tokenId)
    .setIssuedAt(claims.issuedAt)
    .setExpirationTime(claims.expiresAt)
    .sign(keys.current.key);
}

const invalid = (reason: string): Refusal => refuse("tokenInvalid", reason);

/** A refusal decided while resolving the key, carried out of jose's verify call. */
class KeyRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.reason);
  }
}

/** A token signed under a `kid` we do not hold: a forgery, or a key retired too early. */
export const unknownKid = (): Refusal =>
  refuse("tokenInvalid", "unknown key id", { securityEvent: "unknown_kid" });

/**
 * Checks a token we issued: cheap structural checks and the `kid` lookup first, then
 * the signature (algorithm pinned), then the claims. Never throws for bad input.
 */
export async function verifyToken(token: string, options: VerifyOptions): Promise<Decision<VerifiedToken>> {
  const segments = token.split(".");
  if (token.length > MAX_TOKEN_LENGTH || segments.length !== 3) return invalid("not a token");
  if (!CANONICAL_SIGNATURE.test(segments[2] ?? "")) return invalid("signature does not verify");
  // The header is decoded once, by jose, which hands it to this resolver before any
  // signature work: the algorithm and the `kid` are checked there.
  let kid = "";
  const keyFor = (header: JWTHeaderParameters) => {
    if (header.alg !== TOKEN_ALGORITHM) throw new KeyRefused(invalid("algorithm not accepted"));
    const key = typeof header.kid === "string" ? options.keys.byKid.get(header.kid) : undefined;
    if (!key || typeof header.kid !== "string") throw new KeyRefused(unknownKid());
    kid = header.kid;
    return key;
  };

  try {
    const { payload } = await jwtVerify(token, keyFor, {
      algorithms: [TOKEN_ALGORITHM],
      issuer: TOKEN_ISSUER,
      typ: TOKEN_TYPE,
      clockTolerance: options.clockToleranceSeconds,
      maxTokenAge: options.maxAgeSeconds,
      requiredClaims: ["jti", "sub", "exp", "iat", CLAIM.userName, CLAIM.tenantSpaceId],
    });
    const { jti, sub, iat, exp } = payload;
    const userName = payload[CLAIM.userName];
    const tenantSpaceId = payload[CLAIM.tenantSpaceId];
    const epoch = payload[CLAIM.epoch] ?? EPOCH_BEFORE_EPOCHS;
    const signedInAt = payload.auth_time;
    if (
      signedInAt !== undefined &&
      (typeof signedInAt !== "number" || typeof iat !== "number" || signedInAt > iat)
    ) {
      return invalid("auth_time not accepted");
    }
    if (
      typeof epoch !== "string" ||
      typeof jti !== "string" ||
      typeof sub !== "string" ||
      typeof userName !== "string" ||
      typeof tenantSpaceId !== "string" ||
      typeof iat !== "number" ||
      typeof exp !== "number"
    ) {
      return invalid("claims of the wrong type");
    }
    return ok({
      kid,
      claims: {
        tokenId: jti,
        userId: sub,
        userName,
        tenantSpaceId,
        issuedAt: iat,
        expiresAt: exp,
        epoch,
        signedInAt,
      },
    });
  } catch (error) {
    if (error instanceof KeyRefused) return error.refusal;
    if (error instanceof errors.JWTExpired) return refuse("tokenExpired", "expired");
    if (error instanceof errors.JWSSignatureVerificationFailed) return invalid("signature does not verify");
    if (error instanceof errors.JOSEAlgNotAllowed) return invalid("algorithm not accepted");
    if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
      return invalid("not a token");
    if (error instanceof errors.JOSEError) return invalid("claims not accepted");
    throw error;
  }
}
