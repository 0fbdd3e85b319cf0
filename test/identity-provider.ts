import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import { type MockInstance, vi } from "vitest";
import { TEST_TENANT } from "./test-env";

/**
 * An enterprise identity provider played by a test: a key pair, a JWKS served by a
 * mocked `fetch` (the Worker's only way out, see `serveKeySets`), and tokens it signs.
 * `sign({ iat: null })` leaves `iat` out.
 */
export async function identityProvider(name: string, { alg = "RS256" as "RS256" | "ES256" } = {}) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const kid = `${name}-key-1`;
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const issuer = `https://${name}.idp.test`;
  const jwksUri = `${issuer}/.well-known/jwks.json`;
  const now = () => Math.floor(Date.now() / 1000);
  return {
    issuer,
    jwksUri,
    jwk,
    publicKey,
    kid,
    entry: (overrides: Record<string, unknown> = {}) => ({
      issuer,
      audience: "cec-edge-token",
      jwksUri,
      tenantSpaceIds: [TEST_TENANT],
      ...overrides,
    }),
    sign: (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) => {
      const { iat, ...rest } = claims;
      const jwt = new SignJWT({ name: "Alice Example", ...rest })
        .setProtectedHeader({ alg, kid, typ: "JWT", ...header })
        .setIssuer((claims.iss as string) ?? issuer)
        .setAudience((claims.aud as string) ?? "cec-edge-token")
        .setSubject((claims.sub as string) ?? "alice")
        .setExpirationTime((claims.exp as number) ?? now() + 300);
      if (iat !== null) jwt.setIssuedAt((iat as number | undefined) ?? now());
      return jwt.sign(privateKey);
    },
  };
}

export type IdentityProvider = Awaited<ReturnType<typeof identityProvider>>;

/** JWKS documents by URL; a function answers dynamically (down, garbage). */
export type PublishedKeySets = Map<string, JWK[] | (() => Response | Promise<Response>)>;

/**
 * Mocks `fetch` to serve the key sets in `published` (404 for any other URL). Call in a
 * `beforeEach`; `vi.restoreAllMocks()` undoes it.
 */
export function serveKeySets(published: PublishedKeySets): MockInstance<typeof fetch> {
  return vi.spyOn(globalThis, "fetch").mockImplementation(async (input) => {
    const url = input instanceof Request ? input.url : String(input);
    const document = published.get(url);
    if (!document) return new Response("not found", { status: 404 });
    if (typeof document === "function") return document();
    return Response.json({ keys: document });
  });
}

let unique = 0;
/** A provider never seen before (the Worker caches key sets per JWKS URL), published in `published`. */
export async function freshIdentityProvider(
  published: PublishedKeySets,
  options?: { alg?: "RS256" | "ES256" },
): Promise<IdentityProvider> {
  unique += 1;
  const idp = await identityProvider(`p${unique}-${crypto.randomUUID().slice(0, 8)}`, options);
  published.set(idp.jwksUri, [idp.jwk]);
  return idp;
}
