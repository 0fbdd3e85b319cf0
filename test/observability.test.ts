import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  bearer,
  call,
  callWith,
  claimsFor,
  issue,
  jsonRequest,
  mintToken,
  newIdentity,
  VALIDATE_PATH,
  validateRequest,
} from "./helpers";
import { captureLogs } from "./log-capture";
import { TEST_API_KEY, TEST_SIGNING_KEY_CURRENT } from "./test-env";

/** Every structured line logged at any level since the test began. */
const { logged, requestLines, securityLines, clearLogs } = captureLogs();

/** A recording Analytics Engine binding: what the Worker would write. */
function recordingDataset() {
  const points: AnalyticsEngineDataPoint[] = [];
  return { points, writeDataPoint: (point: AnalyticsEngineDataPoint) => points.push(point) };
}

describe("the request log", () => {
  it("in development hands each event over as one line of JSON (wrangler dev prints an object over many)", async () => {
    await callWith({ ENVIRONMENT: "development" }, new Request("https://edge.test/no-such-route"));
    const request = (logged() as unknown[]).find(
      (line) => typeof line === "string" && line.includes('"event":"request"'),
    );
    expect(typeof request).toBe("string");
    expect(String(request)).not.toContain("\n");
    expect(JSON.parse(String(request))).toMatchObject({ level: "info", event: "request", status: 404 });
    clearLogs();
    await call(new Request("https://edge.test/no-such-route"));
    expect(requestLines()).toHaveLength(1);
  });

  it("writes one line per request with the decision, and returns the request id", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    clearLogs();
    const response = await call(validateRequest(token, identity));
    const lines = requestLines();
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line).toMatchObject({
      level: "info",
      requestId: response.headers.get("X-Request-Id"),
      method: "POST",
      route: VALIDATE_PATH,
      status: 200,
      retCode: 0,
      outcome: "ok",
      reason: "validate success",
      tenant: identity.tenantSpaceId,
      kid: TEST_SIGNING_KEY_CURRENT.kid,
      caller: "none",
    });
    expect(line?.user).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(line?.latencyMs).toEqual(expect.any(Number));
    const text = JSON.stringify(logged());
    expect(text).not.toContain(identity.userId);
    expect(text).not.toContain(token);
    expect(text).not.toContain(token.split(".")[2]);
  });

  it("gives the same user the same pseudonym, and another user another", async () => {
    const a = newIdentity();
    const b = newIdentity();
    for (const identity of [a, a, b]) await call(validateRequest("x.y.z", identity));
    const users = requestLines().map((line) => line.user);
    expect(users[0]).toBe(users[1]);
    expect(users[2]).not.toBe(users[0]);
  });

  it("logs the raw user id only when LOG_USER_IDS=raw", async () => {
    const identity = newIdentity();
    await callWith({ LOG_USER_IDS: "raw" }, validateRequest("x.y.z", identity));
    expect(requestLines()[0]?.user).toBe(identity.userId);
  });

  it("logs the route pattern, never a token id from the path, and which API key was used", async () => {
    const { tokenId } = await issue(newIdentity());
    clearLogs();
    await call(
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
    );
    expect(requestLines()[0]).toMatchObject({
      route: "/v1/tokens/:tokenId",
      status: 204,
      apiKey: 1,
      reason: "token revoked",
    });
    expect(JSON.stringify(logged())).not.toContain(tokenId);
  });

  it("labels unknown paths as unmatched", async () => {
    await call(new Request("https://edge.test/wp-admin/login.php?user=admin"));
    expect(requestLines()[0]).toMatchObject({ route: "unmatched", status: 404, retCode: 10 });
    expect(JSON.stringify(logged())).not.toContain("wp-admin");
  });

  it("reuses Cloudflare's cf-ray", async () => {
    const headers = { "cf-ray": "8f3c2a1b0c9d8e7f-AMS" };
    const response = await call(new Request("https://edge.test/openapi.json", { headers }));
    expect(response.headers.get("X-Request-Id")).toBe("8f3c2a1b0c9d8e7f-AMS");
    expect(requestLines()[0]?.requestId).toBe("8f3c2a1b0c9d8e7f-AMS");
  });

  it("drops a client X-Request-Id that is not an id", async () => {
    const response = await call(
      new Request("https://edge.test/openapi.json", { headers: { "X-Request-Id": "<script>" } }),
    );
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines()[0]).not.toHaveProperty("clientRequestId");
  });

  it("classifies the caller's address without logging it", async () => {
    await call(
      new Request("https://edge.test/openapi.json", { headers: { "CF-Connecting-IP": "203.0.113.9" } }),
    );
    expect(requestLines()[0]?.caller).toBe("public-ipv4");
    expect(JSON.stringify(logged())).not.toContain("203.0.113.9");
  });
});

describe("security events", () => {
  const kinds = () => securityLines().map((line) => line.kind);

  it("an unknown kid", async () => {
    const identity = newIdentity();
    await call(validateRequest(await mintToken(claimsFor(identity), { kid: "attacker-kid" }), identity));
    expect(kinds()).toEqual(["unknown_kid"]);
    expect(JSON.stringify(logged())).not.toContain("attacker-kid");
  });

  it("a revoked token presented", async () => {
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity);
    await call(
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
    );
    await call(validateRequest(token, identity));
    expect(kinds()).toEqual(["revoked_token_presented"]);
  });

  it("a forged session value", async () => {
    const forged = encodeURIComponent(
      btoa(JSON.stringify({ tenantId: "1", channelId: "2", userId: "3", createTime: 1 })),
    );
    await call(
      new Request("https://edge.test/v1/web-channel/verify", {
        headers: { Cookie: `ccmessaging-token=${forged}` },
      }),
    );
    expect(kinds()).toEqual(["forged_session_value"]);
  });

  it("a rate limit hit, naming the limiter", async () => {
    const deny = { limit: async () => ({ success: false }) };
    await callWith({ TOKEN_LIMITER: deny }, validateRequest("x.y.z", newIdentity()));
    expect(securityLines()).toEqual([
      expect.objectContaining({ kind: "rate_limit_hit", limiter: "TOKEN_LIMITER" }),
    ]);
  });

  it("repeated failures for one identity fire once, at the fifth", async () => {
    const identity = newIdentity();
    for (let i = 0; i < 7; i++) await call(validateRequest(`bad.token.${i}`, identity));
    expect(kinds()).toEqual(["repeated_failures"]);
    const [event] = securityLines();
    expect(event).toMatchObject({ failures: 5, tenant: identity.tenantSpaceId });
    expect(event?.user).toBe(requestLines()[0]?.user);
  });
});

describe("metrics (Analytics Engine, when bound)", () => {
  it.each([
    [
      "a success",
      async (send: typeof call) => {
        const identity = newIdentity();
        return send(validateRequest((await issue(identity)).token, identity));
      },
      ["ok", 0, 200],
    ],
    [
      "a verdict",
      (send: typeof call) => send(validateRequest("x.y.z", newIdentity())),
      ["tokenInvalid", 2, 200],
    ],
    [
      "a malformed request",
      (send: typeof call) => send(jsonRequest(VALIDATE_PATH, "{")),
      ["malformedRequest", 1, 400],
    ],
    [
      "an issued token",
      (send: typeof call) => send(jsonRequest("/v1/tokens", newIdentity(), { headers: bearer() })),
      ["ok", -1, 201],
    ],
    [
      "a refused API key",
      (send: typeof call) =>
        send(jsonRequest("/v1/tokens", newIdentity(), { headers: bearer("wrong-key-0000000000") })),
      ["unauthorized", 9, 401],
    ],
  ] as const)("writes one data point for %s", async (_, act, [outcome, retCode, status]) => {
    const dataset = recordingDataset();
    await act((request) => callWith({ METRICS: dataset }, request));
    expect(dataset.points).toHaveLength(1);
    const [point] = dataset.points;
    expect(point?.blobs?.[1]).toBe(outcome);
    expect(point?.doubles?.slice(0, 2)).toEqual([retCode, status]);
    expect(point?.doubles?.[2]).toEqual(expect.any(Number));
    expect(point?.indexes?.[0]).toEqual(expect.any(String));
  });
});

describe("GET /v1/stats", () => {
  it("needs the API key, and counts this isolate's requests", async () => {
    expect((await call(new Request("https://edge.test/v1/stats"))).status).toBe(401);
    await call(validateRequest("x.y.z", newIdentity()));
    const response = await call(new Request("https://edge.test/v1/stats", { headers: bearer() }));
    expect(response.status).toBe(200);
    const stats = await response.json<Record<string, unknown>>();
    expect(stats).toMatchObject({
      scope: "this isolate only, since it started",
      requests: expect.any(Number),
    });
    expect((stats.byRoute as Record<string, Record<string, number>>)[VALIDATE_PATH]?.["200"]).toBeGreaterThan(
      0,
    );
    expect((stats.byRetCode as Record<string, number>)["2"]).toBeGreaterThan(0);
  });
});

describe("secrets never reach a log line", () => {
  it("random tokens, API keys and cookies, whatever the outcome", async () => {
    const secret = fc
      .string({ minLength: 12, maxLength: 80, unit: "grapheme-ascii" })
      .filter((s) => s.trim().length >= 12);
    await fc.assert(
      fc.asyncProperty(secret, secret, secret, async (token, apiKey, cookie) => {
        clearLogs();
        const identity = newIdentity();
        await call(validateRequest(token, identity));
        await call(jsonRequest("/v1/tokens", identity, { headers: { Authorization: `Bearer ${apiKey}` } }));
        await call(
          new Request("https://edge.test/v1/web-channel/verify", {
            headers: { "ccmessaging-token": cookie },
          }),
        );
        const text = JSON.stringify(logged());
        for (const value of [token, apiKey, cookie]) expect(text).not.toContain(value);
      }),
      { numRuns: 25 },
    );
    // And the real API key, presented correctly, is never logged either.
    clearLogs();
    await issue(newIdentity());
    expect(JSON.stringify(logged())).not.toContain(TEST_API_KEY);
  });
});
