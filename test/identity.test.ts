import { base64url, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { bearer, callWith, DEVELOPMENT_ENV, jsonRequest, newIdentity, validate } from "./helpers";
import {
  freshIdentityProvider,
  type IdentityProvider,
  identityProvider,
  type PublishedKeySets,
  serveKeySets,
} from "./identity-provider";
import { TEST_TENANT, TEST_TENANT_OTHER, UNSERVED_TENANT } from "./test-env";

let fetchSpy: MockInstance<typeof fetch>;
const published: PublishedKeySets = new Map();

beforeEach(() => {
  published.clear();
  for (const level of ["log", "warn", "error"] as const)
    vi.spyOn(console, level).mockImplementation(() => {});
  fetchSpy = serveKeySets(published);
});
afterEach(() => vi.restoreAllMocks());

const provider = identityProvider;
type Provider = IdentityProvider;
const freshProvider = (options?: { alg?: "RS256" | "ES256" }) => freshIdentityProvider(published, options);

const issuersEnv = (...entries: unknown[]) => ({ IDENTITY_ISSUERS: JSON.stringify(entries) });

async function requestToken(
  idp: Provider,
  idToken: string,
  body: Record<string, unknown> = { tenantSpaceId: TEST_TENANT },
  env = issuersEnv(idp.entry()),
) {
  const response = await callWith(
    env,
    jsonRequest("/v1/tokens", body, { headers: { Authorization: `Bearer ${idToken}` } }),
  );
  return { response, body: await response.json<Record<string, unknown>>() };
}

/** `POST /v1/tokens` as Cloudflare Access forwards it: the identity in Cf-Access-Jwt-Assertion. */
const accessRequest = (env: Record<string, unknown>, assertion: string) =>
  callWith(
    env,
    jsonRequest(
      "/v1/tokens",
      { tenantSpaceId: TEST_TENANT },
      { headers: { "Cf-Access-Jwt-Assertion": assertion } },
    ),
  );

describe("POST /v1/tokens with an enterprise identity token", () => {
  it("requires iat: an identity token without it is refused (401, retCode 12)", async () => {
    const idp = await freshProvider();
    const { response, body } = await requestToken(idp, await idp.sign({ iat: null }));
    expect(response.status).toBe(401);
    expect(body).toEqual({ retCode: 12, message: "identity token invalid: iat claim is required" });
  });

  it("refuses an auth_time that is not a number (401, retCode 12)", async () => {
    const idp = await freshProvider();
    const { response, body } = await requestToken(idp, await idp.sign({ auth_time: "yesterday" }));
    expect(response.status).toBe(401);
    expect(body).toEqual({ retCode: 12, message: "identity token invalid: auth_time claim not accepted" });
  });

  it("issues a token for the signed-in user, whose identity comes from the claims", async () => {
    const idp = await freshProvider();
    const { response, body } = await requestToken(
      idp,
      await idp.sign({ sub: "alice-42", name: "Alice Example" }),
    );
    expect(response.status).toBe(201);
    const identity = { userId: "alice-42", userName: "Alice Example", tenantSpaceId: TEST_TENANT };
    expect((await validate(body.token as string, identity)).body.retCode).toBe(0);
  });

  it("takes the user from configured claims", async () => {
    const idp = await freshProvider({ alg: "ES256" });
    const env = issuersEnv(idp.entry({ userIdClaim: "employee_id", userNameClaim: "email" }));
    const idToken = await idp.sign({ employee_id: "E-1001", email: "alice@example.com" });
    const { response, body } = await requestToken(idp, idToken, { tenantSpaceId: TEST_TENANT }, env);
    expect(response.status).toBe(201);
    const claims = JSON.parse(
      atob((body.token as string).split(".")[1]?.replace(/-/g, "+").replace(/_/g, "/") ?? ""),
    );
    expect(claims).toMatchObject({ sub: "E-1001", name: "alice@example.com" });
  });

  it("accepts a body that repeats the identity, refuses one that names another user", async () => {
    const idp = await freshProvider();
    const idToken = await idp.sign({ sub: "alice", name: "Alice Example" });
    const same = await requestToken(idp, idToken, {
      tenantSpaceId: TEST_TENANT,
      userId: "alice",
      userName: "Alice Example",
    });
    expect(same.response.status).toBe(201);
    for (const other of [{ userId: "bob" }, { userName: "Bob" }]) {
      const { response, body } = await requestToken(idp, idToken, { tenantSpaceId: TEST_TENANT, ...other });
      expect(response.status).toBe(403);
      expect(body.retCode).toBe(14);
    }
  });

  it("refuses a tenant the issuer is not allowed for (403, 14), and one not served at all (403, 7)", async () => {
    const idp = await freshProvider();
    const idToken = await idp.sign();
    const notAllowed = await requestToken(idp, idToken, { tenantSpaceId: TEST_TENANT_OTHER });
    expect([notAllowed.response.status, notAllowed.body.retCode]).toEqual([403, 14]);
    const notServed = await requestToken(idp, idToken, { tenantSpaceId: UNSERVED_TENANT });
    expect([notServed.response.status, notServed.body.retCode]).toEqual([403, 7]);
  });

  it("API keys keep working beside identity issuers", async () => {
    const idp = await freshProvider();
    const response = await callWith(
      issuersEnv(idp.entry()),
      jsonRequest("/v1/tokens", newIdentity(), { headers: bearer() }),
    );
    expect(response.status).toBe(201);
  });

  describe("the attack matrix: each answers 401 retCode 12", () => {
    const cases: [string, (idp: Provider) => Promise<string>][] = [
      [
        "alg none",
        async (idp) => {
          const header = base64url.encode(JSON.stringify({ alg: "none", kid: idp.kid }));
          const payload = base64url.encode(
            JSON.stringify({
              iss: idp.issuer,
              aud: "cec-edge-token",
              sub: "alice",
              name: "A",
              exp: Math.floor(Date.now() / 1000) + 300,
            }),
          );
          return `${header}.${payload}.`;
        },
      ],
      [
        "HS256 signed with the provider's public key",
        async (idp) => {
          const secret = new TextEncoder().encode(JSON.stringify(idp.jwk));
          return new SignJWT({ name: "A" })
            .setProtectedHeader({ alg: "HS256", kid: idp.kid })
            .setIssuer(idp.issuer)
            .setAudience("cec-edge-token")
            .setSubject("alice")
            .setExpirationTime("5m")
            .sign(secret);
        },
      ],
      ["a wrong iss", (idp) => idp.sign({ iss: "https://evil.idp.test" })],
      ["a wrong aud", (idp) => idp.sign({ aud: "another-app" })],
      [
        "an expired token",
        (idp) =>
          idp.sign({ iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 60 }),
      ],
      ["a token not yet valid", (idp) => idp.sign({ nbf: Math.floor(Date.now() / 1000) + 120 })],
      ["an unknown kid", (idp) => idp.sign({}, { kid: "rotated-away" })],
      [
        "a tampered payload",
        async (idp) => {
          const [header, payload, signature] = (await idp.sign({ sub: "alice" })).split(".");
          const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload ?? "")));
          return `${header}.${base64url.encode(JSON.stringify({ ...claims, sub: "admin" }))}.${signature}`;
        },
      ],
      ["a token without the user name claim", (idp) => idp.sign({ name: undefined })],
      [
        "a token signed by another provider's key under this issuer's name",
        async (idp) => {
          const impostor = await provider("impostor");
          return new SignJWT({ name: "A" })
            .setProtectedHeader({ alg: "RS256", kid: idp.kid })
            .setIssuer(idp.issuer)
            .setAudience("cec-edge-token")
            .setSubject("alice")
            .setExpirationTime("5m")
            .sign((await generateKeyPair("RS256")).privateKey)
            .then((token) => (impostor ? token : token));
        },
      ],
    ];

    it.each(cases)("%s", async (_, makeToken) => {
      const idp = await freshProvider();
      const { response, body } = await requestToken(idp, await makeToken(idp));
      expect(response.status).toBe(401);
      expect(body.retCode).toBe(12);
    });
  });

  it("an unknown kid in an identity token is a security event", async () => {
    const idp = await freshProvider();
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    await requestToken(idp, await idp.sign({}, { kid: "rotated-away" }));
    const events = warn.mock.calls.map(([line]) => line as Record<string, unknown>);
    expect(events).toContainEqual(expect.objectContaining({ event: "security", kind: "unknown_kid" }));
  });

  describe("the key-set cache", () => {
    it("fetches the JWKS once for many tokens", async () => {
      const idp = await freshProvider();
      for (let i = 0; i < 4; i++) {
        const { response } = await requestToken(idp, await idp.sign({ sub: `user-${i}` }));
        expect(response.status).toBe(201);
      }
      expect(fetchSpy.mock.calls.filter(([input]) => String(input) === idp.jwksUri)).toHaveLength(1);
    });

    it("refetches on an unknown kid at most once per cooldown, so random kids cannot hammer the provider", async () => {
      const idp = await freshProvider();
      await requestToken(idp, await idp.sign()); // warms the cache
      for (let i = 0; i < 5; i++) {
        const { body } = await requestToken(idp, await idp.sign({}, { kid: `random-${i}` }));
        expect(body.retCode).toBe(12);
      }
      // One initial fetch; the cooldown (30 s) has not passed since it, so no refetch at all.
      expect(fetchSpy.mock.calls.filter(([input]) => String(input) === idp.jwksUri)).toHaveLength(1);
    });
  });

  describe("a provider that is down answers 503 retCode 13, never a 500", () => {
    it.each([
      ["a network error", () => Promise.reject(new TypeError("fetch failed"))],
      ["an HTTP 500", () => new Response("oops", { status: 500 })],
      [
        "garbage instead of a JWKS",
        () => new Response("<html>maintenance</html>", { headers: { "Content-Type": "text/html" } }),
      ],
      ["a JSON document that is not a JWKS", () => Response.json({ hello: "world" })],
    ])("%s", async (_, answer) => {
      const idp = await freshProvider();
      published.set(idp.jwksUri, answer);
      const { response, body } = await requestToken(idp, await idp.sign());
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("5");
      expect(body.retCode).toBe(13);
      // Backing off: the next request does not fetch again.
      const calls = fetchSpy.mock.calls.length;
      const again = await requestToken(idp, await idp.sign());
      expect(again.body.retCode).toBe(13);
      expect(fetchSpy.mock.calls.length).toBe(calls);
    });
  });

  it("Cloudflare Access: the Cf-Access-Jwt-Assertion header, when an issuer is configured for it", async () => {
    const idp = await freshProvider();
    const env = issuersEnv(idp.entry({ source: "cloudflare-access", userNameClaim: "email" }));
    const assertion = await idp.sign({ sub: "access-user-1", email: "alice@example.com" });
    const response = await accessRequest(env, assertion);
    expect(response.status).toBe(201);
    // The same JWT as a bearer is not accepted by an Access-only issuer.
    const asBearer = await callWith(
      env,
      jsonRequest(
        "/v1/tokens",
        { tenantSpaceId: TEST_TENANT },
        { headers: { Authorization: `Bearer ${assertion}` } },
      ),
    );
    expect(asBearer.status).toBe(401);
  });
});

describe("IDENTITY_ISSUERS configuration", () => {
  it.each([
    ["not JSON", "[{"],
    ["not an array", "{}"],
    [
      "an entry without jwksUri",
      JSON.stringify([{ issuer: "https://a.test", audience: "x", tenantSpaceIds: [TEST_TENANT] }]),
    ],
    [
      "an http JWKS in production",
      JSON.stringify([
        {
          issuer: "https://a.test",
          audience: "x",
          jwksUri: "http://a.test/jwks",
          tenantSpaceIds: [TEST_TENANT],
        },
      ]),
    ],
    [
      "a tenant not served",
      JSON.stringify([
        {
          issuer: "https://a.test",
          audience: "x",
          jwksUri: "https://a.test/jwks",
          tenantSpaceIds: [UNSERVED_TENANT],
        },
      ]),
    ],
    [
      "a symmetric algorithm",
      JSON.stringify([
        {
          issuer: "https://a.test",
          audience: "x",
          jwksUri: "https://a.test/jwks",
          tenantSpaceIds: [TEST_TENANT],
          algorithms: ["HS256"],
        },
      ]),
    ],
  ])("%s is a configuration error naming the variable", async (_, value) => {
    const response = await callWith(
      { IDENTITY_ISSUERS: value, ENVIRONMENT: "test" },
      new Request("https://edge.test/healthz"),
    );
    expect(response.status).toBe(503);
    const body = await response.json<{ retCode: number; message: string }>();
    expect(body.retCode).toBe(11);
    expect(body.message).toContain("IDENTITY_ISSUERS");
  });
});

describe("CORS and cross-site requests", () => {
  const env = { ALLOWED_ORIGINS: "https://www.example.com,https://shop.example.com" };
  const preflight = (origin: string) =>
    callWith(
      env,
      new Request("https://edge.test/v1/tokens", {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "POST",
          "Access-Control-Request-Headers": "authorization,content-type",
        },
      }),
    );

  it("answers a preflight from an allowed origin", async () => {
    const response = await preflight("https://www.example.com");
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("https://www.example.com");
    expect(response.headers.get("Access-Control-Allow-Credentials")).toBe("true");
    expect(response.headers.get("Access-Control-Allow-Methods")).toContain("POST");
    expect(response.headers.get("Access-Control-Allow-Headers")?.toLowerCase()).toContain("authorization");
    expect(response.headers.get("Vary")).toContain("Origin");
  });

  it("gives nothing to another origin", async () => {
    const response = await preflight("https://evil.example");
    expect(response.status).toBe(403);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(await response.json()).toMatchObject({ retCode: 15 });
    const simple = await callWith(
      env,
      new Request("https://edge.test/healthz", { headers: { Origin: "https://evil.example" } }),
    );
    expect(simple.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("adds CORS headers to actual responses for allowed origins only", async () => {
    const allowed = await callWith(
      env,
      jsonRequest("/v1/tokens", newIdentity(), {
        headers: { ...bearer(), Origin: "https://shop.example.com" },
      }),
    );
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe("https://shop.example.com");
    expect(allowed.headers.get("Access-Control-Expose-Headers")).toContain("X-Request-Id");
  });

  it("refuses cookie routes from a foreign origin (CSRF), allows same and allowed origins", async () => {
    const end = (headers: Record<string, string>) =>
      callWith(env, new Request("https://edge.test/v1/web-channel/sessions", { method: "DELETE", headers }));
    const foreign = await end({ Origin: "https://evil.example" });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toMatchObject({ retCode: 15 });
    expect((await end({ "Sec-Fetch-Site": "cross-site" })).status).toBe(403);
    expect((await end({ Origin: "https://edge.test" })).status).toBe(204);
    expect((await end({ Origin: "https://www.example.com" })).status).toBe(204);
    expect((await end({})).status).toBe(204);
  });

  it("ALLOWED_ORIGINS refuses http origins in production and malformed ones anywhere", async () => {
    for (const [value, environment] of [
      ["http://www.example.com", "production"],
      ["www.example.com", "test"],
    ] as const) {
      const response = await callWith(
        { ALLOWED_ORIGINS: value, ENVIRONMENT: environment },
        new Request("https://edge.test/healthz"),
      );
      expect(await response.json()).toMatchObject({
        retCode: 11,
        message: expect.stringContaining("ALLOWED_ORIGINS"),
      });
    }
  });
});

describe("the development identity provider", () => {
  const development = DEVELOPMENT_ENV;

  it("mints a token for a demo user that /v1/tokens accepts, offline", async () => {
    const minted = await callWith(development, new Request("https://edge.test/dev/idp/token?user=alice"));
    expect(minted.status).toBe(200);
    const { idToken, userId } = await minted.json<{ idToken: string; userId: string }>();
    expect(userId).toBe("demo-alice");
    const response = await callWith(
      development,
      jsonRequest(
        "/v1/tokens",
        { tenantSpaceId: "202007159031" },
        { headers: { Authorization: `Bearer ${idToken}` } },
      ),
    );
    expect(response.status).toBe(201);
    expect(fetchSpy).not.toHaveBeenCalled();
    const jwks = await callWith(development, new Request("https://edge.test/dev/idp/jwks.json"));
    expect((await jwks.json<{ keys: unknown[] }>()).keys).toHaveLength(1);
  });

  it("does not exist outside development", async () => {
    for (const path of ["/dev/idp/token?user=alice", "/dev/idp/jwks.json"]) {
      expect((await callWith({}, new Request(`https://edge.test${path}`))).status).toBe(404);
    }
  });

  it("refuses unknown demo users", async () => {
    const response = await callWith(development, new Request("https://edge.test/dev/idp/token?user=mallory"));
    expect(response.status).toBe(400);
  });
});

/** The token's claims, read without verifying (the test trusts what it was just given). */
const claimsOf = (token: string) =>
  JSON.parse(new TextDecoder().decode(base64url.decode(token.split(".")[1] ?? ""))) as Record<
    string,
    unknown
  >;

describe("hostile input, round 2 (issue 13)", () => {
  /** Spies on the warnings; the function returned lists the security events logged since. */
  const watchSecurityEvents = () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    return () =>
      warn.mock.calls
        .map(([line]) => line as Record<string, unknown>)
        .filter((line) => line.event === "security")
        .map((line) => line.kind);
  };

  describe("a token the verifier cannot use is that token's problem, never a provider outage", () => {
    it("a crit header it does not understand: 401 retCode 12, a security event, and genuine users unaffected", async () => {
      const idp = await freshProvider();
      const securityKinds = watchSecurityEvents();
      const header = base64url.encode(JSON.stringify({ alg: "RS256", kid: idp.kid, crit: ["x"], x: 1 }));
      const payload = base64url.encode(
        JSON.stringify({
          iss: idp.issuer,
          aud: "cec-edge-token",
          sub: "mallory",
          exp: Date.now() / 1000 + 300,
        }),
      );
      const forged = await requestToken(idp, `${header}.${payload}.AAAA`);
      expect([forged.response.status, forged.body.retCode]).toEqual([401, 12]);
      expect(securityKinds()).toContain("identity_token_unusable");
      const genuine = await requestToken(idp, await idp.sign());
      expect(genuine.response.status).toBe(201);
    });

    it("no kid while the key set holds two keys of that type (rotation): 401 retCode 12, genuine users unaffected", async () => {
      const idp = await freshProvider();
      const next = await provider("next");
      const securityKinds = watchSecurityEvents();
      published.set(idp.jwksUri, [idp.jwk, { ...next.jwk, kid: "next-key" }]);
      const ambiguous = await requestToken(idp, await idp.sign({}, { kid: undefined }));
      expect([ambiguous.response.status, ambiguous.body.retCode]).toEqual([401, 12]);
      expect(securityKinds()).toContain("identity_token_unusable");
      const genuine = await requestToken(idp, await idp.sign());
      expect(genuine.response.status).toBe(201);
    });

    it("a failed key-set fetch still backs off (503 retCode 13)", async () => {
      const idp = await freshProvider();
      published.set(idp.jwksUri, () => new Response("down", { status: 502 }));
      expect((await requestToken(idp, await idp.sign())).body.retCode).toBe(13);
    });
  });

  describe("user ids namespaced per identity provider (userIdPrefix)", () => {
    it("refuses two issuers serving one tenant without distinct prefixes", async () => {
      const a = await freshProvider();
      const b = await freshProvider();
      for (const entries of [
        [a.entry(), b.entry()],
        [a.entry({ userIdPrefix: "a:" }), b.entry()],
        [a.entry({ userIdPrefix: "a:" }), b.entry({ userIdPrefix: "a:" })],
        [a.entry({ userIdPrefix: "corp" }), b.entry({ userIdPrefix: "corp-b:" })],
      ]) {
        const response = await callWith(issuersEnv(...entries), new Request("https://edge.test/healthz"));
        const body = await response.json<{ retCode: number; message: string }>();
        expect(body.retCode).toBe(11);
        expect(body.message).toContain("IDENTITY_ISSUERS");
        expect(body.message).toContain("userIdPrefix");
      }
    });

    it("applies each issuer's prefix before the token is issued: one sub, two different users", async () => {
      const a = await freshProvider();
      const b = await freshProvider();
      const env = issuersEnv(a.entry({ userIdPrefix: "a:" }), b.entry({ userIdPrefix: "b:" }));
      const fromA = await requestToken(a, await a.sign({ sub: "ceo@corp" }), undefined, env);
      const fromB = await requestToken(b, await b.sign({ sub: "ceo@corp" }), undefined, env);
      expect(claimsOf(fromA.body.token as string).sub).toBe("a:ceo@corp");
      expect(claimsOf(fromB.body.token as string).sub).toBe("b:ceo@corp");
      const identity = { userName: "Alice Example", tenantSpaceId: TEST_TENANT };
      expect(
        (await validate(fromA.body.token as string, { ...identity, userId: "a:ceo@corp" })).body.retCode,
      ).toBe(0);
      expect(
        (await validate(fromA.body.token as string, { ...identity, userId: "ceo@corp" })).body.retCode,
      ).toBe(5);
      // Issuers serving different tenants need no prefix.
      const other = await callWith(
        issuersEnv(a.entry(), b.entry({ tenantSpaceIds: [TEST_TENANT_OTHER] })),
        new Request("https://edge.test/healthz"),
      );
      expect(other.status).toBe(200);
    });
  });

  describe("identity claims obey the validate call's field rules, from every source", () => {
    it.each([
      ["a 300-character name", { name: "n".repeat(300) }, "name claim must be at most 256 characters"],
      ["a 129-character sub", { sub: "s".repeat(129) }, "sub claim must be at most 128 characters"],
      [
        "a sub with CR/LF",
        { sub: "alice\r\nX-Evil: 1" },
        "sub claim must not contain control or invisible formatting characters",
      ],
      [
        "a name with a NUL",
        { name: "Alice\u0000" },
        "name claim must not contain control or invisible formatting characters",
      ],
    ])("%s: 401 retCode 12 naming the claim", async (_, claims, message) => {
      const idp = await freshProvider();
      const { response, body } = await requestToken(idp, await idp.sign(claims));
      expect([response.status, body.retCode]).toEqual([401, 12]);
      expect(body.message).toContain(message);
    });

    it("the prefix counts towards the 128 characters", async () => {
      const idp = await freshProvider();
      const env = issuersEnv(idp.entry({ userIdPrefix: "corp:" }));
      const { body } = await requestToken(idp, await idp.sign({ sub: "s".repeat(124) }), undefined, env);
      expect(body).toMatchObject({ retCode: 12, message: expect.stringContaining("sub claim") });
    });

    it("Cloudflare Access assertions too", async () => {
      const idp = await freshProvider();
      const env = issuersEnv(idp.entry({ source: "cloudflare-access", userNameClaim: "email" }));
      const assertion = await idp.sign({ email: `${"a".repeat(300)}@example.com` });
      const response = await accessRequest(env, assertion);
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({
        retCode: 12,
        message: expect.stringContaining("email claim must be at most 256 characters"),
      });
    });
  });
});
