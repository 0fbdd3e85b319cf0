import {
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  SignJWT,
} from "jose";
import type { IdentityIssuer } from "./issuers";
import { localKeySource } from "./key-source";

/**
 * A built-in identity provider for local development only (ENVIRONMENT=development):
 * a signing key made fresh in each isolate, its JWKS, and tokens for named demo users,
 * so the whole browser-to-token path runs offline with `npm run dev`. Never registered
 * in any other environment (src/http/app.ts).
 */
export const DEVELOPMENT_ISSUER = "urn:cec-edge-token:development-idp";
export const DEVELOPMENT_AUDIENCE = "cec-edge-token";
const KID = "development-idp";
const LIFETIME_SECONDS = 600;

export const DEMO_USERS: Readonly<Record<string, { sub: string; name: string }>> = {
  alice: { sub: "demo-alice", name: "Alice Example" },
  bob: { sub: "demo-bob", name: "Bob Example" },
};

export function developmentIssuer(tenantSpaceIds: ReadonlySet<string>): IdentityIssuer {
  return {
    issuer: DEVELOPMENT_ISSUER,
    audience: [DEVELOPMENT_AUDIENCE],
    keySource: localKeySource(developmentKeySet),
    userIdClaim: "sub",
    // Development only, two fixed demo users: left out of the prefix check (README).
    userIdPrefix: "",
    userNameClaim: "name",
    tenantSpaceIds,
    algorithms: ["ES256"],
    source: "authorization",
  };
}

interface DevelopmentKeys {
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
  keySet: JWTVerifyGetKey;
}

let keys: Promise<DevelopmentKeys> | undefined;

function developmentKeys(): Promise<DevelopmentKeys> {
  keys ??= (async () => {
    const pair = await generateKeyPair("ES256", { extractable: true });
    const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: KID, alg: "ES256", use: "sig" }] };
    return { privateKey: pair.privateKey, jwks, keySet: createLocalJWKSet(jwks) };
  })();
  return keys;
}

export async function developmentJwks(): Promise<JSONWebKeySet> {
  return (await developmentKeys()).jwks;
}

export async function developmentKeySet(): Promise<JWTVerifyGetKey> {
  return (await developmentKeys()).keySet;
}

/** An identity token for a demo user, as the enterprise's own provider would issue it. */
export async function mintDevelopmentIdentity(user: keyof typeof DEMO_USERS & string): Promise<string> {
  const demo = DEMO_USERS[user];
  if (!demo) throw new Error("unknown demo user");
  return new SignJWT({ name: demo.name })
    .setProtectedHeader({ alg: "ES256", kid: KID, typ: "JWT" })
    .setIssuer(DEVELOPMENT_ISSUER)
    .setAudience(DEVELOPMENT_AUDIENCE)
    .setSubject(demo.sub)
    .setIssuedAt()
    .setExpirationTime(`${LIFETIME_SECONDS}s`)
    .sign((await developmentKeys()).privateKey);
}
