import fc from "fast-check";
import { base64url } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OUTCOMES } from "../src/core/outcomes";
import { faultyKv, kvReturning, NO_KV_MEMO } from "./faults";
import {
  bearer,
  call,
  callWith,
  claimsFor,
  type Identity,
  issue,
  jsonRequest,
  mintToken,
  newIdentity,
  VALIDATE_PATH,
  validate,
  validateRequest,
} from "./helpers";
import { TEST_SIGNING_KEY_CURRENT, TEST_SIGNING_KEY_OLDER } from "./test-env";

beforeEach(() => {
  for (const level of ["log", "warn", "error"] as const)
    vi.spyOn(console, level).mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const DOCUMENTED_STATUSES = new Set([200, 201, 204, 400, 401, 403, 404, 413, 415, 429, 503]);
const DOCUMENTED_RET_CODES = new Set<number>(Object.values(OUTCOMES).map((entry) => entry.retCode));

/**
 * The invariant every answer keeps, whatever came in: a documented status; never a 5xx
 * but the documented 503 (retCode 4 or 11); an error is JSON `{retCode, message}` with a
 * documented retCode; nothing that looks like a stack trace or source path.
 */
async function expectDocumentedAnswer(response: Response) {
  expect(DOCUMENTED_STATUSES).toContain(response.status);
  const text = await response.text();
  expect(text).not.toMatch(/\n\s+at |\.ts:\d|node_modules|Error:/);
  if (response.status === 204 || response.status === 201) return;
  const body = JSON.parse(text) as { retCode?: unknown; message?: unknown; status?: unknown };
  if (response.status === 200 && body.status === "ok") return; // /healthz
  expect(DOCUMENTED_RET_CODES).toContain(body.retCode);
  expect(typeof body.message).toBe("string");
  if (response.status >= 500) expect([4, 11]).toContain(body.retCode);
}

/** Printable ASCII: what can travel in a header value. */
const headerText = (maxLength = 60) =>
  fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)),
    maxLength,
  });
const contentType = fc.oneof(
  fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "application/x-www-form-urlencoded",
    "application/merge-patch+json",
  ),
  headerText(),
);
const fieldValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.constant(null),
  fc.boolean(),
  fc.array(fc.string()),
  fc.object(),
  fc.string({ minLength: 200, maxLength: 3000 }),
);
const anyBody = fc.oneof(
  fc.string(),
  fc.json(),
  fc
    .record(
      {
        Token: fieldValue,
        userName: fieldValue,
        userId: fieldValue,
        tenantSpaceId: fieldValue,
        channelId: fieldValue,
        ttlSeconds: fieldValue,
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value)),
);
const methods = fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD");
const paths = fc.constantFrom(
  VALIDATE_PATH,
  "/v1/tokens",
  "/v1/tokens/AAAAAAAAAAAAAAAAAAAAAA",
  "/v1/tokens/..%2f..%2fetc",
  "/v1/web-channel/sessions",
  "/v1/web-channel/verify",
  "/v1/web-channel/me",
  "/v1/stats",
  "/healthz",
  "/",
);

describe("property: every endpoint answers arbitrary input with a documented answer", () => {
  it("bodies, content types, methods, authorization and cookies", async () => {
    await fc.assert(
      fc.asyncProperty(
        paths,
        methods,
        contentType,
        anyBody,
        headerText(),
        headerText(),
        async (path, method, type, body, authorization, cookie) => {
          const request = new Request(`https://edge.test${path}`, {
            method,
            headers: {
              "Content-Type": type,
              Authorization: authorization,
              Cookie: cookie,
              "ccmessaging-token": cookie,
            },
            body: method === "GET" || method === "HEAD" ? undefined : body,
          });
          const response = await call(request);
          if (method === "HEAD") expect(DOCUMENTED_STATUSES).toContain(response.status);
          else await expectDocumentedAnswer(response);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a random string never validates, whatever the identity", async () => {
    const identity = fc.record({
      userId: fc.string({ minLength: 1, maxLength: 20 }),
      userName: fc.string({ minLength: 1, maxLength: 20 }),
      tenantSpaceId: fc.constantFrom("202007159031", "202107150001"),
    });
    const tokenish = fc.oneof(
      fc.string({ minLength: 1 }),
      fc
        .tuple(fc.base64String(), fc.base64String(), fc.base64String())
        .map((parts) => parts.join(".").replace(/\+/g, "-").replace(/\//g, "_").replace(/=/g, "")),
    );
    await fc.assert(
      fc.asyncProperty(tokenish, identity, async (token, who) => {
        const response = await call(jsonRequest(VALIDATE_PATH, { Token: token, ...who }));
        const body = await response.json<{ retCode: number }>();
        expect(body.retCode).not.toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe("property: one changed character makes validation fail", () => {
  const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.%+/=";
  const changeOne = (text: string, index: number, replacement: string) => {
    const at = index % text.length;
    const char = text[at] === replacement ? (replacement === "A" ? "B" : "A") : replacement;
    return `${text.slice(0, at)}${char}${text.slice(at + 1)}`;
  };
  const position = fc.nat();
  const character = fc.constantFrom(...ALPHABET);

  it("in a valid token", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    await fc.assert(
      fc.asyncProperty(position, character, async (index, replacement) => {
        const { body } = await validate(changeOne(token, index, replacement), identity, (request) =>
          // A fresh limiter budget: this property retries one token many times on purpose.
          callWith({ TOKEN_LIMITER: { limit: async () => ({ success: true }) } }, request),
        );
        expect(body.retCode).not.toBe(0);
      }),
      { numRuns: 200 },
    );
    // Every position of the signature, with every character, including the last one's
    // unused bits.
    const signatureStart = token.lastIndexOf(".") + 1;
    for (let at = signatureStart; at < token.length; at += 7) {
      const { body } = await validate(changeOne(token, at, "w"), identity, (request) =>
        callWith({ TOKEN_LIMITER: { limit: async () => ({ success: true }) } }, request),
      );
      expect(body.retCode).not.toBe(0);
    }
    // The last character carries 2 unused bits: the three other characters that differ
    // only in them decode to the same signature bytes, and must still be refused.
    const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const lastValue = B64URL.indexOf(token.slice(-1));
    for (let low = 0; low < 4; low++) {
      const twin = B64URL[(lastValue & ~3) + low] ?? "";
      if (twin === token.slice(-1)) continue;
      const { body } = await validate(`${token.slice(0, -1)}${twin}`, identity, (request) =>
        callWith({ TOKEN_LIMITER: { limit: async () => ({ success: true }) } }, request),
      );
      expect(body.retCode).toBe(2);
    }
  });

  it("in a valid cookie", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const opened = await call(
      jsonRequest("/v1/web-channel/sessions", { Token: token, ...identity, channelId: "web-1" }),
    );
    const value = /ccmessaging-token=([^;]+)/.exec(opened.headers.get("Set-Cookie") ?? "")?.[1] ?? "";
    expect(value).not.toBe("");
    const verify = (cookie: string) =>
      call(
        new Request("https://edge.test/v1/web-channel/verify", {
          headers: { Cookie: `ccmessaging-token=${cookie}` },
        }),
      );
    expect((await verify(value)).status).toBe(204);
    await fc.assert(
      fc.asyncProperty(position, character, async (index, replacement) => {
        const response = await verify(changeOne(value, index, replacement));
        expect(response.status).toBe(401);
      }),
      { numRuns: 300 },
    );
    // Percent-encoding in another case decodes to the same value: still refused.
    if (value.includes("%3D")) expect((await verify(value.replace("%3D", "%3d"))).status).toBe(401);
  });

  it("in any identity field", async () => {
    const identity = newIdentity({ userName: "Tom Smith" });
    const { token } = await issue(identity);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<keyof Identity>("userId", "userName", "tenantSpaceId"),
        position,
        character,
        async (field, index, replacement) => {
          const changed = { ...identity, [field]: changeOne(identity[field], index, replacement) };
          const { body } = await validate(token, changed, (request) =>
            callWith({ TOKEN_LIMITER: { limit: async () => ({ success: true }) } }, request),
          );
          expect([5, 7]).toContain(body.retCode);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe("JWT attacks on the tokens we issue", () => {
  const hmac = async (input: string, secret: Uint8Array) => {
    const key = await crypto.subtle.importKey(
      "raw",
      new Uint8Array(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return base64url.encode(
      new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(input))),
    );
  };
  /** Signs raw header and payload JSON text with the real test key: what only a key holder could make. */
  const signRaw = async (headerJson: string, payloadJson: string) => {
    const input = `${base64url.encode(headerJson)}.${base64url.encode(payloadJson)}`;
    return `${input}.${await hmac(input, base64url.decode(TEST_SIGNING_KEY_CURRENT.secret))}`;
  };
  const expectRetCode = async (token: string, identity: Identity, retCode: number) =>
    expect((await validate(token, identity)).body.retCode).toBe(retCode);

  it.each([
    ["path characters", "../../../etc/passwd", 2],
    ["a URL", "https://attacker.example/jwks.json", 2],
    ["a long value", "k".repeat(200), 2],
    // Past 2,048 characters the Token field itself is refused as malformed.
    ["a value that makes the token too long", "k".repeat(1500), 1],
    ["a NUL byte", "test-2026-b\u0000", 2],
    ["a prototype property", "__proto__", 2],
    ["another prototype property", "constructor", 2],
  ])("a malicious kid (%s) is refused", async (_, kid, retCode) => {
    const identity = newIdentity();
    await expectRetCode(await mintToken(claimsFor(identity), { kid }), identity, retCode);
  });

  it("algorithm confusion: HS256 signed with a key id's name, RS256 and ES256 headers", async () => {
    const identity = newIdentity();
    const claims = claimsFor(identity);
    await expectRetCode(
      await mintToken(
        claims,
        {},
        {
          kid: TEST_SIGNING_KEY_CURRENT.kid,
          secret: base64url.encode(TEST_SIGNING_KEY_CURRENT.kid.padEnd(32, "x")),
        },
      ),
      identity,
      2,
    );
    for (const alg of ["RS256", "ES256", "HS512", "none", "hs256"]) {
      const forged = await signRaw(
        JSON.stringify({ alg, typ: "cec-chat+jwt", kid: TEST_SIGNING_KEY_CURRENT.kid }),
        JSON.stringify(claims),
      );
      await expectRetCode(forged, identity, 2);
    }
  });

  it("a token whose signing key was removed", async () => {
    const identity = newIdentity();
    const token = await mintToken(claimsFor(identity), {}, TEST_SIGNING_KEY_OLDER);
    expect((await validate(token, identity)).body.retCode).toBe(0);
    const withoutOlder = (request: Request) =>
      callWith(
        { SIGNING_KEYS: `${TEST_SIGNING_KEY_CURRENT.kid}:${TEST_SIGNING_KEY_CURRENT.secret}` },
        request,
      );
    expect((await validate(token, identity, withoutOlder)).body.retCode).toBe(2);
  });

  it.each(["jti", "sub", "name", "tenant_space_id", "iat", "exp", "iss"])(
    "a missing %s claim",
    async (claim) => {
      const identity = newIdentity();
      const claims: Record<string, unknown> = claimsFor(identity);
      delete claims[claim];
      await expectRetCode(await mintToken(claims), identity, 2);
    },
  );

  it("duplicated claims: the last one counts, as JSON.parse and RFC 7519 allow, so the first cannot smuggle an identity", async () => {
    const identity = newIdentity();
    const victim = newIdentity();
    const { sub: _, ...claims } = claimsFor(identity);
    const payload = `{"sub":${JSON.stringify(victim.userId)},${JSON.stringify(claims).slice(1, -1)},"sub":${JSON.stringify(identity.userId)}}`;
    const token = await signRaw(
      JSON.stringify({ alg: "HS256", typ: "cec-chat+jwt", kid: TEST_SIGNING_KEY_CURRENT.kid }),
      payload,
    );
    await expectRetCode(token, { ...victim, userName: identity.userName }, 5);
    await expectRetCode(token, identity, 0);
  });

  describe("time claims at the tolerance edges (CLOCK_TOLERANCE_SECONDS = 5)", () => {
    // The clock stands still (only Date is faked): a second ticking between minting and
    // validating would otherwise move an edge across the tolerance on a slow machine.
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(Math.floor(Date.now() / 1000) * 1000 + 500);
    });
    afterEach(() => vi.useRealTimers());
    const now = () => Math.floor(Date.now() / 1000);
    it("exp 4 s ago is accepted; exp 6 s ago is expired", async () => {
      const identity = newIdentity();
      const base = claimsFor(identity, { ageSeconds: 60 });
      await expectRetCode(await mintToken({ ...base, exp: now() - 4 }), identity, 0);
      await expectRetCode(await mintToken({ ...base, exp: now() - 6 }), identity, 3);
    });

    it("iat 4 s in the future is accepted; 6 s is refused", async () => {
      const identity = newIdentity();
      const base = claimsFor(identity);
      await expectRetCode(await mintToken({ ...base, iat: now() + 4, exp: now() + 200 }), identity, 0);
      await expectRetCode(await mintToken({ ...base, iat: now() + 6, exp: now() + 200 }), identity, 2);
    });

    it("nbf 4 s ahead is accepted; 6 s ahead is refused", async () => {
      const identity = newIdentity();
      const base = claimsFor(identity);
      await expectRetCode(await mintToken({ ...base, nbf: now() + 4 }), identity, 0);
      await expectRetCode(await mintToken({ ...base, nbf: now() + 6 }), identity, 2);
    });

    it("non-numeric times are refused", async () => {
      const identity = newIdentity();
      const base = claimsFor(identity);
      await expectRetCode(await mintToken({ ...base, exp: String(base.exp) }), identity, 2);
      await expectRetCode(await mintToken({ ...base, iat: null }), identity, 2);
    });
  });
});

describe("KV faults on every endpoint", () => {
  it.each([
    ["a string", "issued"],
    ["a number", 42],
    ["an array", [1]],
    ["an object of another shape", { state: "issued" }],
    ["an unknown state", { state: "active", exp: 1 }],
  ])("a token record that is %s fails closed, as a bug (500)", async (_, stored) => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const response = await callWith(
      { TOKENS: kvReturning(stored), ...NO_KV_MEMO },
      validateRequest(token, identity),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ retCode: 4 });
  });

  it("a session record of the wrong shape fails closed", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const opened = await call(
      jsonRequest("/v1/web-channel/sessions", { Token: token, ...identity, channelId: "web-1" }),
    );
    const cookie = (opened.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    const response = await callWith(
      { TOKENS: kvReturning({ state: "active", sid: 7 }), ...NO_KV_MEMO },
      new Request("https://edge.test/v1/web-channel/verify", { headers: { Cookie: cookie } }),
    );
    expect(response.status).toBe(500);
    expect(await response.json()).toMatchObject({ retCode: 4 });
  });

  it("every route that touches KV answers 503 retCode 4 when KV is unavailable", async () => {
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity);
    const opened = await call(
      jsonRequest("/v1/web-channel/sessions", { Token: token, ...identity, channelId: "web-1" }),
    );
    const cookie = (opened.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    const broken = faultyKv(["get", "put"], "unavailable");
    const requests = [
      jsonRequest("/v1/tokens", newIdentity(), { headers: bearer() }),
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
      validateRequest(token, identity),
      jsonRequest("/v1/web-channel/sessions", { Token: token, ...identity, channelId: "web-2" }),
      new Request("https://edge.test/v1/web-channel/verify", { headers: { Cookie: cookie } }),
      new Request("https://edge.test/v1/web-channel/me", { headers: { Cookie: cookie } }),
      new Request("https://edge.test/v1/web-channel/sessions", {
        method: "DELETE",
        headers: { Cookie: cookie },
      }),
    ];
    for (const request of requests) {
      const response = await callWith({ TOKENS: broken, ...NO_KV_MEMO }, request);
      expect({ url: request.url, method: request.method, status: response.status }).toEqual({
        url: request.url,
        method: request.method,
        status: 503,
      });
      expect(await response.json()).toMatchObject({ retCode: 4 });
    }
  });
});

describe("KV consistency", () => {
  it("two sessions opened at once for one (tenant, channel, user): exactly one survives", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const open = () =>
      call(jsonRequest("/v1/web-channel/sessions", { Token: token, ...identity, channelId: "web-1" }));
    const [a, b] = await Promise.all([open(), open()]);
    const cookies = [a, b].map((response) => (response.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "");
    const statuses = await Promise.all(
      cookies.map(
        async (cookie) =>
          (
            await call(
              new Request("https://edge.test/v1/web-channel/verify", { headers: { Cookie: cookie } }),
            )
          ).status,
      ),
    );
    expect(statuses.sort()).toEqual([204, 401]);
  });
});
