import { env } from "cloudflare:workers";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import { bearer, call, issue, jsonRequest, newIdentity, recordKeyFor } from "./helpers";
import { TEST_API_KEY_SECOND, TEST_SIGNING_KEY_CURRENT, UNSERVED_TENANT } from "./test-env";

const issueRequest = (body: unknown, headers: Record<string, string> = bearer()) =>
  jsonRequest("/v1/tokens", body, { headers });

describe("POST /v1/tokens", () => {
  it("issues a signed token for the identity and answers 201", async () => {
    const identity = newIdentity();
    const before = Math.floor(Date.now() / 1000);
    const response = await call(issueRequest(identity));
    expect(response.status).toBe(201);
    expect(response.headers.get("Cache-Control")).toBe("no-store");
    const body = await response.json<{
      token: string;
      tokenId: string;
      expiresAt: string;
      expiresIn: number;
    }>();
    expect(body.expiresIn).toBe(300);
    expect(body.tokenId).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const expiresAtSeconds = Date.parse(body.expiresAt) / 1000;
    expect(expiresAtSeconds).toBeGreaterThanOrEqual(before + 300);
    expect(expiresAtSeconds).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 300);

    expect(decodeProtectedHeader(body.token)).toEqual({
      alg: "HS256",
      typ: "cec-chat+jwt",
      kid: TEST_SIGNING_KEY_CURRENT.kid,
    });
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({
      iss: "cec-edge-token",
      sub: identity.userId,
      name: identity.userName,
      tenant_space_id: identity.tenantSpaceId,
      jti: body.tokenId,
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(300);
    expect(claims.exp).toBe(expiresAtSeconds);
  });

  it("accepts every listed API key, and the scheme in any case", async () => {
    expect((await call(issueRequest(newIdentity(), bearer(TEST_API_KEY_SECOND)))).status).toBe(201);
    const lowerCase = { Authorization: bearer().Authorization.replace("Bearer", "bearer") };
    expect((await call(issueRequest(newIdentity(), lowerCase))).status).toBe(201);
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong key", bearer("not-the-api-key-at-all-0000")],
    ["a prefix of the right key", bearer("test-api-key-")],
    ["the right key under another scheme", { Authorization: `Basic ${bearer().Authorization.slice(7)}` }],
    ["an empty bearer", { Authorization: "Bearer " }],
  ])("answers 401 with retCode 9 for %s", async (_, headers) => {
    const response = await call(issueRequest(newIdentity(), headers));
    expect(response.status).toBe(401);
    expect(response.headers.get("WWW-Authenticate")).toMatch(/^Bearer /);
    expect(await response.json()).toEqual({ retCode: 9, message: "missing or invalid API key" });
  });

  it("answers 403 with retCode 7 for a tenant this deployment does not serve", async () => {
    const response = await call(issueRequest(newIdentity({ tenantSpaceId: UNSERVED_TENANT })));
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ retCode: 7 });
  });

  describe("token lifetime", () => {
    it.each([
      [1, 1],
      [60, 60],
      [299, 299],
      [300, 300],
      [301, 300],
      [86_400, 300],
    ])("asked for %i s, grants %i s", async (asked, granted) => {
      const { token, expiresIn } = await issue(newIdentity(), { ttlSeconds: asked });
      expect(expiresIn).toBe(granted);
      const claims = decodeJwt(token);
      expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(granted);
    });

    it.each([0, -5, 1.5, 86_401, "60", null])("refuses ttlSeconds %j with retCode 1", async (ttlSeconds) => {
      const response = await call(issueRequest({ ...newIdentity(), ttlSeconds }));
      expect(response.status).toBe(400);
      const body = await response.json<{ retCode: number; message: string }>();
      expect(body.retCode).toBe(1);
      expect(body.message).toContain("ttlSeconds");
    });
  });

  describe("malformed requests answer 400-class with retCode 1 and name the problem", () => {
    it.each([
      ["a missing field", { userName: "Tom", tenantSpaceId: "202007159031" }, 400, "userId is required"],
      ["an empty field", { ...newIdentity(), userName: "" }, 400, "userName must not be empty"],
      ["a field of the wrong type", { ...newIdentity(), userId: 10010001 }, 400, "userId must be a string"],
      ["an overlong field", { ...newIdentity(), userId: "x".repeat(129) }, 400, "userId must be at most 128"],
      ["a JSON array", [1, 2], 400, "body must be a JSON object"],
      ["JSON null", null, 400, "body must be a JSON object"],
    ])("%s", async (_, body, status, message) => {
      const response = await call(issueRequest(body));
      expect(response.status).toBe(status);
      const answer = await response.json<{ retCode: number; message: string }>();
      expect(answer.retCode).toBe(1);
      expect(answer.message).toContain(message);
    });

    it("a body that is not JSON", async () => {
      const response = await call(issueRequest("{userId: 1"));
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        retCode: 1,
        message: "malformed request: body is not valid JSON",
      });
    });

    it("a body over 4 KiB, with or without Content-Length", async () => {
      const big = JSON.stringify({ ...newIdentity(), padding: "x".repeat(5000) });
      const response = await call(issueRequest(big));
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ retCode: 1 });

      const streamed = new Request("https://edge.test/v1/tokens", {
        method: "POST",
        headers: { "Content-Type": "application/json", ...bearer() },
        body: new Blob([big]).stream(),
        duplex: "half",
      } as RequestInit);
      expect(streamed.headers.has("Content-Length")).toBe(false);
      const streamedResponse = await call(streamed);
      expect(streamedResponse.status).toBe(413);
    });

    it.each(["text/plain", "application/x-www-form-urlencoded", ""])(
      "Content-Type %j answers 415",
      async (contentType) => {
        const response = await call(
          new Request("https://edge.test/v1/tokens", {
            method: "POST",
            headers: { "Content-Type": contentType, ...bearer() },
            body: JSON.stringify(newIdentity()),
          }),
        );
        expect(response.status).toBe(415);
        expect(await response.json()).toMatchObject({ retCode: 1 });
      },
    );

    it("accepts application/json with a charset", async () => {
      const response = await call(
        new Request("https://edge.test/v1/tokens", {
          method: "POST",
          headers: { "Content-Type": "application/json; charset=UTF-8", ...bearer() },
          body: JSON.stringify(newIdentity()),
        }),
      );
      expect(response.status).toBe(201);
    });
  });

  describe("the record in KV", () => {
    it("is keyed by a hash, holds no secret, and expires after the token", async () => {
      const identity = newIdentity();
      const { token, tokenId, expiresAt } = await issue(identity, { ttlSeconds: 120 });
      const key = await recordKeyFor(tokenId);

      const listed = await env.TOKENS.list({ prefix: key });
      expect(listed.keys).toHaveLength(1);
      const stored = await env.TOKENS.get(key);
      expect(JSON.parse(stored ?? "null")).toEqual({ state: "issued", exp: Date.parse(expiresAt) / 1000 });
      expect(stored).not.toContain(tokenId);
      expect(stored).not.toContain(token.split(".")[2]);
      // Record lives past exp + clock tolerance (5 s) + margin (60 s).
      expect(listed.keys[0]?.expiration).toBe(Date.parse(expiresAt) / 1000 + 5 + 60);
    });

    it("of a one-second token still respects KV's 60-second minimum", async () => {
      const now = Math.floor(Date.now() / 1000);
      const { tokenId } = await issue(newIdentity(), { ttlSeconds: 1 });
      const listed = await env.TOKENS.list({ prefix: await recordKeyFor(tokenId) });
      expect(listed.keys[0]?.expiration).toBeGreaterThanOrEqual(now + 60 + 60);
    });
  });
});
