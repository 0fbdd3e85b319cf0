import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { describe, expect, it } from "vitest";
import {
  bearer,
  call,
  claimsFor,
  issue,
  jsonRequest,
  mintToken,
  newIdentity,
  recordKeyFor,
  VALIDATE_PATH,
  validate,
} from "./helpers";
import { TEST_TENANT_OTHER, UNSERVED_TENANT } from "./test-env";

describe("the validate endpoint", () => {
  it("answers retCode 0 'validate success' for a genuine token and its identity", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const response = await call(jsonRequest(VALIDATE_PATH, { Token: token, ...identity }));
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    expect(await response.json()).toEqual({ retCode: 0, message: "validate success" });
  });

  it("accepts the vendor's example field order and extra fields", async () => {
    const identity = newIdentity({ userName: "Tom" });
    const { token } = await issue(identity);
    const body = `{"Token":"${token}","userName":"Tom","userId":"${identity.userId}","tenantSpaceId":"${identity.tenantSpaceId}","channel":"WEB"}`;
    const response = await call(jsonRequest(VALIDATE_PATH, body));
    expect(await response.json()).toEqual({ retCode: 0, message: "validate success" });
  });

  it("validates a token more than once while it lives", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    for (let i = 0; i < 3; i++) expect((await validate(token, identity)).body.retCode).toBe(0);
  });

  describe("retCode 1: malformed request (HTTP 400, 413, 415)", () => {
    it.each([
      ["Token missing", (t: string, i: object) => ({ ...i, token: t }), "Token is required"],
      ["Token empty", (_: string, i: object) => ({ ...i, Token: "" }), "Token must not be empty"],
      [
        "userId a number",
        (t: string, i: object) => ({ ...i, Token: t, userId: 10010001 }),
        "userId must be a string",
      ],
      [
        "tenantSpaceId missing",
        (t: string, i: object) => ({ ...i, Token: t, tenantSpaceId: undefined }),
        "tenantSpaceId is required",
      ],
      [
        "userName null",
        (t: string, i: object) => ({ ...i, Token: t, userName: null }),
        "userName must be a string",
      ],
    ])("%s", async (_, build, message) => {
      const identity = newIdentity();
      const response = await call(jsonRequest(VALIDATE_PATH, build("x.y.z", identity)));
      expect(response.status).toBe(400);
      const body = await response.json<{ retCode: number; message: string }>();
      expect(body.retCode).toBe(1);
      expect(body.message).toContain(message);
    });

    it("a body that is not JSON", async () => {
      const response = await call(jsonRequest(VALIDATE_PATH, "Token=abc"));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ retCode: 1 });
    });

    it("a body over 4 KiB", async () => {
      const response = await call(jsonRequest(VALIDATE_PATH, { ...newIdentity(), Token: "x".repeat(5000) }));
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ retCode: 1 });
    });

    it("a body that is not declared JSON", async () => {
      const request = new Request(`https://edge.test${VALIDATE_PATH}`, { method: "POST", body: "{}" });
      const response = await call(request);
      expect(response.status).toBe(415);
      expect(await response.json()).toMatchObject({ retCode: 1 });
    });
  });

  describe("retCode 2: token malformed or badly signed (HTTP 200)", () => {
    const cases: [string, (identity: ReturnType<typeof newIdentity>) => Promise<string>][] = [
      ["a random string", async () => "not-a-token"],
      ["three random segments", async () => "abc.def.ghi"],
      [
        "a token whose signature was altered",
        async (identity) => {
          const { token } = await issue(identity);
          const [header, payload, signature = ""] = token.split(".");
          const flipped = signature.startsWith("A") ? `B${signature.slice(1)}` : `A${signature.slice(1)}`;
          return `${header}.${payload}.${flipped}`;
        },
      ],
      [
        "a token whose payload was altered (another user substituted)",
        async (identity) => {
          const { token } = await issue(newIdentity());
          const [header, , signature] = token.split(".");
          const forgedPayload = base64url.encode(JSON.stringify(claimsFor(identity)));
          return `${header}.${forgedPayload}.${signature}`;
        },
      ],
      [
        "alg none",
        async (identity) => {
          const header = base64url.encode(
            JSON.stringify({ alg: "none", typ: "cec-chat+jwt", kid: "test-2026-b" }),
          );
          return `${header}.${base64url.encode(JSON.stringify(claimsFor(identity)))}.`;
        },
      ],
      ["an unknown kid", (identity) => mintToken(claimsFor(identity), { kid: "someone-else" })],
      ["no kid", (identity) => mintToken(claimsFor(identity), { kid: undefined })],
      [
        "a key we do not hold",
        (identity) =>
          mintToken(
            claimsFor(identity),
            {},
            { kid: "test-2026-b", secret: base64url.encode(new Uint8Array(32)) },
          ),
      ],
      ["another token type", (identity) => mintToken(claimsFor(identity), { typ: "JWT" })],
      ["another issuer", (identity) => mintToken({ ...claimsFor(identity), iss: "someone-else" })],
      [
        "a missing jti",
        (identity) => {
          const { jti: _, ...claims } = claimsFor(identity);
          return mintToken(claims);
        },
      ],
      ["a numeric sub", (identity) => mintToken({ ...claimsFor(identity), sub: 10010001 })],
      ["an iat in the future", (identity) => mintToken(claimsFor(identity, { ageSeconds: -60 }))],
      [
        "an auth_time after iat",
        (identity) => {
          const claims = claimsFor(identity);
          return mintToken({ ...claims, auth_time: claims.iat + 1 });
        },
      ],
      ["an auth_time not a number", (identity) => mintToken({ ...claimsFor(identity), auth_time: "0" })],
    ];

    it.each(cases)("%s", async (_, makeToken) => {
      const identity = newIdentity();
      const { status, body } = await validate(await makeToken(identity), identity);
      expect(status).toBe(200);
      expect(body.retCode).toBe(2);
      expect(body.message).toMatch(/^token invalid/);
    });
  });

  describe("retCode 3: token expired (HTTP 200)", () => {
    it("past exp by more than the clock tolerance", async () => {
      const identity = newIdentity();
      const token = await mintToken(claimsFor(identity, { ageSeconds: 100, ttlSeconds: 90 }));
      expect((await validate(token, identity)).body).toEqual({
        retCode: 3,
        message: "token expired: expired",
      });
    });

    it("but not while within the 5-second clock tolerance", async () => {
      const identity = newIdentity();
      const tokenId = (await issue(identity)).tokenId; // a record exists for this id
      const token = await mintToken(claimsFor(identity, { ageSeconds: 93, ttlSeconds: 90, tokenId }));
      expect((await validate(token, identity)).body.retCode).toBe(0);
    });

    it("a token older than TOKEN_TTL_SECONDS, whatever its exp says", async () => {
      const identity = newIdentity();
      const token = await mintToken(claimsFor(identity, { ageSeconds: 400, ttlSeconds: 1000 }));
      expect((await validate(token, identity)).body.retCode).toBe(3);
    });
  });

  describe("retCode 5: identity mismatch (HTTP 200)", () => {
    it.each([
      ["userId", { userId: "someone-else" }],
      ["userName", { userName: "Mallory" }],
      ["tenantSpaceId", { tenantSpaceId: TEST_TENANT_OTHER }],
      ["userId with different case", { userId: "USER" }],
    ])("%s", async (field, change) => {
      const identity = newIdentity({ userId: "user" });
      const { token } = await issue(identity);
      const { status, body } = await validate(token, { ...identity, ...change });
      expect(status).toBe(200);
      expect(body.retCode).toBe(5);
      expect(body.message).toContain(field.split(" ")[0]);
    });
  });

  describe("retCode 6: revoked or unknown (HTTP 200)", () => {
    it("after DELETE /v1/tokens/{tokenId}, which answers 204", async () => {
      const identity = newIdentity();
      const { token, tokenId } = await issue(identity);
      expect((await validate(token, identity)).body.retCode).toBe(0);
      const response = await call(
        new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
      );
      expect(response.status).toBe(204);
      expect(await validate(token, identity)).toEqual({
        status: 200,
        body: { retCode: 6, message: "token revoked or unknown: token revoked" },
      });
    });

    it("revocation leaves a tombstone that outlives any token", async () => {
      const { tokenId } = await issue(newIdentity());
      await call(
        new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
      );
      const { keys } = await env.TOKENS.list({ prefix: await recordKeyFor(tokenId) });
      expect(JSON.parse((await env.TOKENS.get(await recordKeyFor(tokenId))) ?? "{}")).toMatchObject({
        state: "revoked",
      });
      expect(keys[0]?.expiration).toBeGreaterThan(Date.now() / 1000 + 86_400);
    });

    it("revocation is idempotent and needs the API key", async () => {
      const { tokenId } = await issue(newIdentity());
      const revoke = (headers: Record<string, string>) =>
        call(new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers }));
      expect((await revoke({})).status).toBe(401);
      expect((await revoke(bearer())).status).toBe(204);
      expect((await revoke(bearer())).status).toBe(204);
    });

    it("a tokenId that is not one answers 400", async () => {
      const response = await call(
        new Request("https://edge.test/v1/tokens/..%2F..", { method: "DELETE", headers: bearer() }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ retCode: 1 });
    });
  });

  describe("the missing-record policy (KV is eventually consistent)", () => {
    it("accepts a correctly signed token with no record while it is younger than 90 s", async () => {
      const identity = newIdentity();
      const token = await mintToken(claimsFor(identity, { ageSeconds: 85 }));
      expect((await validate(token, identity)).body.retCode).toBe(0);
    });

    it("refuses it as unknown once it is older than 90 s", async () => {
      const identity = newIdentity();
      const token = await mintToken(claimsFor(identity, { ageSeconds: 95 }));
      expect((await validate(token, identity)).body).toEqual({
        retCode: 6,
        message: "token revoked or unknown: token unknown",
      });
    });

    it("accepts an older token whose record is there", async () => {
      const identity = newIdentity();
      const tokenId = (await issue(identity)).tokenId;
      const token = await mintToken(claimsFor(identity, { ageSeconds: 200, tokenId }));
      expect((await validate(token, identity)).body.retCode).toBe(0);
    });

    it("refuses a young token that was revoked before its record arrived", async () => {
      const identity = newIdentity();
      const tokenId = base64url.encode(crypto.getRandomValues(new Uint8Array(16)));
      await call(
        new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
      );
      const token = await mintToken(claimsFor(identity, { tokenId }));
      expect((await validate(token, identity)).body.retCode).toBe(6);
    });
  });

  it("retCode 7: a tenant this deployment does not serve (HTTP 200), before any crypto", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const { status, body } = await validate(token, { ...identity, tenantSpaceId: UNSERVED_TENANT });
    expect(status).toBe(200);
    expect(body.retCode).toBe(7);
  });

  it("retCode 8: the same token tried more than 20 times a minute (HTTP 429)", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const answers = [];
    for (let i = 0; i < 21; i++)
      answers.push(await call(jsonRequest(VALIDATE_PATH, { Token: token, ...identity })));
    expect(answers.slice(0, 20).map((r) => r.status)).toEqual(Array(20).fill(200));
    const limited = answers[20];
    expect(limited?.status).toBe(429);
    expect(limited?.headers.get("Retry-After")).toBe("60");
    expect(await limited?.json()).toEqual({ retCode: 8, message: "rate limited, retry later" });
    // Another token for the same caller is not affected.
    const other = newIdentity();
    expect((await validate((await issue(other)).token, other)).body.retCode).toBe(0);
  });

  it("answers 404 retCode 10 for GET and for unknown paths", async () => {
    for (const request of [
      new Request(`https://edge.test${VALIDATE_PATH}`),
      new Request("https://edge.test/rest/cc-messaging/v1/thirdparty/other", { method: "POST" }),
    ]) {
      const response = await call(request);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ retCode: 10, message: "not found" });
    }
  });
});
