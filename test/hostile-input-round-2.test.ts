import { base64url } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import { DEVELOPMENT_DEFAULTS } from "../src/config/development";
import { clientAddressKey } from "../src/http/client-address";
import { logEvent } from "../src/observability/log";
import {
  bearer,
  call,
  callWith,
  claimsFor,
  DEVELOPMENT_ENV,
  issue,
  jsonRequest,
  mintToken,
  newIdentity,
  validateRequest,
} from "./helpers";
import { captureLogs, type Line } from "./log-capture";
import { TEST_BINDINGS, TEST_TENANT, UNSERVED_TENANT } from "./test-env";

/**
 * The second round of black-box attacks (issue 13): each test here failed on the code
 * the attack was run against. The first round is test/hostile-input.test.ts.
 */

const { logged, requestLines, securityLines } = captureLogs();

const SESSIONS = "/v1/web-channel/sessions";
const healthz = () => new Request("https://edge.test/healthz");

describe("2. the committed development secrets are refused by value, whatever the kid", () => {
  const developmentSecret = DEVELOPMENT_DEFAULTS.SIGNING_KEYS.split(":")[1] ?? "";

  it.each(["production", "staging"])(
    "%s: SIGNING_KEYS=prod-2026-a:<the development secret>",
    async (environment) => {
      const response = await callWith(
        { ...TEST_BINDINGS, ENVIRONMENT: environment, SIGNING_KEYS: `prod-2026-a:${developmentSecret}` },
        healthz(),
      );
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        retCode: 11,
        message: expect.stringContaining("SIGNING_KEYS holds the committed development key"),
      });
    },
  );

  it("so a token forged with the public development secret never validates", async () => {
    const kid = "prod-2026-a";
    const env = { ...TEST_BINDINGS, ENVIRONMENT: "production", SIGNING_KEYS: `${kid}:${developmentSecret}` };
    const identity = newIdentity();
    const forged = await mintToken(claimsFor(identity), {}, { kid, secret: developmentSecret });
    const response = await callWith(env, validateRequest(forged, identity));
    expect(await response.json()).toMatchObject({ retCode: 11 });
  });

  it("also followed by zero bytes, which HMAC treats as the same key", async () => {
    const secret = base64url.decode(developmentSecret);
    for (const zeros of [1, 64 - secret.byteLength]) {
      const padded = base64url.encode(new Uint8Array([...secret, ...new Uint8Array(zeros)]));
      const env = { ...TEST_BINDINGS, ENVIRONMENT: "production", SIGNING_KEYS: `prod-2026-a:${padded}` };
      const identity = newIdentity();
      const forged = await mintToken(
        claimsFor(identity),
        {},
        { kid: "prod-2026-a", secret: developmentSecret },
      );
      const response = await callWith(env, validateRequest(forged, identity));
      expect(await response.json()).toMatchObject({
        retCode: 11,
        message: expect.stringContaining("SIGNING_KEYS holds the committed development key"),
      });
    }
  });

  it("the development API key is refused beside a real one, and as the second key", async () => {
    const response = await callWith(
      {
        ...TEST_BINDINGS,
        ENVIRONMENT: "production",
        API_KEYS: `a-real-key-0123456789abcdef, ${DEVELOPMENT_DEFAULTS.API_KEYS}`,
      },
      healthz(),
    );
    expect(await response.json()).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("API_KEYS holds the committed development key"),
    });
  });
});

describe("5. ids and names: no control characters; X-CEC-* values percent-encoded", () => {
  it.each([
    ["userId", "alice\r\nX-Evil: 1"],
    ["userName", "Alice\u0000"],
    ["tenantSpaceId", `${TEST_TENANT}\n`],
    ["userName", "Alice\u2028"],
    ["userId", "alice\u0085"],
    ["userId", "alice\ud800"],
  ])(
    "POST /v1/tokens refuses a %s with a control character: 400 retCode 1 naming the field",
    async (field, value) => {
      const response = await call(
        jsonRequest("/v1/tokens", { ...newIdentity(), [field]: value }, { headers: bearer() }),
      );
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        retCode: 1,
        message: `malformed request: ${field} must not contain control or invisible formatting characters`,
      });
    },
  );

  it("the validate call and the session call refuse them too", async () => {
    const identity = newIdentity();
    const validation = await call(validateRequest("x.y.z", { ...identity, userId: "a\tb" }));
    expect([validation.status, (await validation.json<Line>()).retCode]).toEqual([400, 1]);
    const { token } = await issue(identity);
    const session = await call(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web\r\n1" }));
    expect(session.status).toBe(400);
    expect(await session.json()).toEqual({
      retCode: 1,
      message: "malformed request: channelId must not contain control or invisible formatting characters",
    });
  });

  it("/verify percent-encodes the UTF-8 of each X-CEC-* value (RFC 3986), so any id arrives intact", async () => {
    const identity = newIdentity({ userId: "用户-ünïcode/100%", userName: "Zoë" });
    const channelId = "канал 1 (web)";
    const { token } = await issue(identity);
    const opened = await call(jsonRequest(SESSIONS, { Token: token, ...identity, channelId }));
    expect(opened.status).toBe(200);
    const cookie = (opened.headers.get("Set-Cookie") ?? "").split(";")[0] ?? "";
    const response = await call(
      new Request("https://edge.test/v1/web-channel/verify", { headers: { Cookie: cookie } }),
    );
    expect(response.status).toBe(204);
    const userHeader = response.headers.get("X-CEC-User-Id") ?? "";
    const channelHeader = response.headers.get("X-CEC-Channel-Id") ?? "";
    for (const header of [userHeader, channelHeader]) expect(header).toMatch(/^[A-Za-z0-9\-._~%]+$/);
    expect(decodeURIComponent(userHeader)).toBe(identity.userId);
    expect(decodeURIComponent(channelHeader)).toBe(channelId);
    expect(channelHeader).toBe("%D0%BA%D0%B0%D0%BD%D0%B0%D0%BB%201%20%28web%29");
    expect(response.headers.get("X-CEC-Tenant-Id")).toBe(TEST_TENANT);
  });
});

describe("6. attacker-chosen values stay out of the logs", () => {
  it("an unserved tenant is not logged; a served one is", async () => {
    await call(validateRequest("x.y.z", newIdentity({ tenantSpaceId: UNSERVED_TENANT })));
    await call(validateRequest("x.y.z", newIdentity()));
    const [unserved, served] = requestLines();
    expect(unserved?.retCode).toBe(7);
    expect(unserved).not.toHaveProperty("tenant");
    expect(served?.tenant).toBe(TEST_TENANT);
    expect(JSON.stringify(logged())).not.toContain(UNSERVED_TENANT);
  });

  it("a channel is logged only once the session is authenticated", async () => {
    const identity = newIdentity();
    await call(jsonRequest(SESSIONS, { Token: "x.y.z", ...identity, channelId: "attacker-chosen-channel" }));
    expect(JSON.stringify(logged())).not.toContain("attacker-chosen-channel");
    const { token } = await issue(identity);
    await call(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "genuine-channel" }));
    expect(requestLines().at(-1)?.channel).toBe("genuine-channel");
  });

  it("no log line ever holds a control character", () => {
    logEvent("info", "probe", { reason: "line one\r\nline two\u0000\u2028", nested: "\u001b[31mred" });
    const line = logged().find((entry) => entry.event === "probe");
    expect(JSON.stringify(line)).not.toMatch(/\\r|\\n|\\u0000|\\u001b|\u2028/);
    expect(line?.reason).toBe("line one\uFFFD\uFFFDline two\uFFFD\uFFFD");
  });

  it("requestId comes from cf-ray; a client's X-Request-Id is kept as its own field", async () => {
    const response = await call(
      new Request("https://edge.test/openapi.json", {
        headers: { "cf-ray": "8f3c2a1b0c9d8e7f-AMS", "X-Request-Id": "client-chosen-0001" },
      }),
    );
    expect(response.headers.get("X-Request-Id")).toBe("8f3c2a1b0c9d8e7f-AMS");
    expect(requestLines()[0]).toMatchObject({
      requestId: "8f3c2a1b0c9d8e7f-AMS",
      clientRequestId: "client-chosen-0001",
    });
  });

  it("without cf-ray the requestId is ours, not the client's", async () => {
    const response = await call(
      new Request("https://edge.test/openapi.json", { headers: { "X-Request-Id": "client-chosen-0002" } }),
    );
    expect(response.headers.get("X-Request-Id")).toMatch(/^[0-9a-f-]{36}$/);
    expect(requestLines()[0]).toMatchObject({ clientRequestId: "client-chosen-0002" });
  });
});

describe("7. API-key guessing is a security event", () => {
  const guess = (key: string, address = "fd00:13::7") =>
    call(
      jsonRequest("/v1/tokens", newIdentity(), {
        headers: { Authorization: `Bearer ${key}`, "CF-Connecting-IP": address },
      }),
    );

  it("api_key_rejected for a wrong key, never logging it; none for a missing key", async () => {
    const presented = `guess-${crypto.randomUUID()}`;
    expect((await guess(presented)).status).toBe(401);
    expect(securityLines()).toContainEqual(
      expect.objectContaining({ kind: "api_key_rejected", route: "/v1/tokens", caller: "private-ipv6" }),
    );
    expect(JSON.stringify(logged())).not.toContain(presented);
    const before = securityLines().length;
    await call(jsonRequest("/v1/tokens", newIdentity()));
    await call(new Request("https://edge.test/v1/stats"));
    expect(securityLines().length).toBe(before);
  });

  it("repeated rejections from one address class fire repeated_failures once", async () => {
    for (let attempt = 0; attempt < 7; attempt++)
      await guess(`guess-${attempt}-${crypto.randomUUID()}`, "fd13::1");
    const repeated = securityLines().filter((line) => line.kind === "repeated_failures");
    expect(repeated).toHaveLength(1);
    expect(repeated[0]).toMatchObject({ caller: "private-ipv6", failures: 5 });
  });
});

describe("8. /docs and every answer carry a Content-Security-Policy", () => {
  it("/docs loads its one script from this origin and allows nothing else", async () => {
    const page = await call(new Request("https://edge.test/docs"));
    const html = await page.text();
    const script = /<script src="([^"]+)"><\/script>/.exec(html);
    expect(script?.[1]).toMatch(/^\/docs\/[\w.-]+\.js$/);
    const policy = page.headers.get("Content-Security-Policy") ?? "";
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toContain("unsafe-eval");
    expect(policy).not.toMatch(/https?:/);
  });

  it("/playground has its own policy: its own origin only", async () => {
    for (const path of ["/playground", "/playground/playground.js"]) {
      const response = await callWith(DEVELOPMENT_ENV, new Request(`https://edge.test${path}`));
      expect(response.headers.get("Content-Security-Policy")).toContain("script-src 'self'");
      expect(response.headers.get("Content-Security-Policy")).toContain("default-src 'none'");
    }
  });

  it("JSON answers carry default-src 'none'", async () => {
    for (const request of [
      validateRequest("x.y.z", newIdentity()),
      new Request("https://edge.test/openapi.json"),
      new Request("https://edge.test/nowhere"),
      healthz(),
    ]) {
      const response = await call(request);
      expect(response.headers.get("Content-Security-Policy")).toBe(
        "default-src 'none'; frame-ancestors 'none'",
      );
    }
    const misconfigured = await callWith({ ENVIRONMENT: "nonsense" }, healthz());
    expect(misconfigured.headers.get("Content-Security-Policy")).toBe(
      "default-src 'none'; frame-ancestors 'none'",
    );
  });

  it("DOCS=off serves no HTML; the OpenAPI document stays; DOCS must be on or off", async () => {
    expect((await callWith({ DOCS: "off" }, new Request("https://edge.test/docs"))).status).toBe(404);
    expect((await callWith({ DOCS: "off" }, new Request("https://edge.test/openapi.json"))).status).toBe(200);
    expect((await callWith({ DOCS: "on" }, new Request("https://edge.test/docs"))).status).toBe(200);
    const refused = await callWith({ DOCS: "maybe" }, healthz());
    expect(await refused.json()).toMatchObject({ retCode: 11, message: expect.stringContaining("DOCS") });
  });
});

describe("9. the per-address key normalises addresses", () => {
  const key = (address: string) =>
    clientAddressKey(new Request("https://edge.test/", { headers: { "CF-Connecting-IP": address } }));

  it("an IPv4-mapped address counts as its IPv4 address", () => {
    expect(key("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(key("::ffff:5.6.7.8")).toBe("5.6.7.8");
    expect(key("::FFFF:102:304")).toBe("1.2.3.4");
  });

  it("one /64 has one spelling", () => {
    const spellings = ["2001:DB8:0:1::9", "2001:0db8:0000:0001:0:0:0:9", "2001:db8:0:1:ffff::1"];
    expect(new Set(spellings.map(key))).toEqual(new Set(["2001:db8:0:1::/64"]));
    expect(key("2001:db8:0:2::1")).toBe("2001:db8:0:2::/64");
  });
});

describe("10. GET /v1/stats", () => {
  afterEach(() => vi.useRealTimers());

  it("says when this isolate served its first request, not when the module loaded (1970 on Workers)", async () => {
    // On Workers the clock reads zero while a module is evaluated: loaded afresh at time 0.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(0);
    vi.resetModules();
    const stats = await import("../src/observability/stats");
    const firstRequestAt = Date.parse("2026-11-02T10:00:00Z");
    vi.setSystemTime(firstRequestAt);
    stats.countRequest("/healthz", 200, undefined);
    vi.setSystemTime(firstRequestAt + 60_000);
    expect(stats.statsSnapshot().isolateStartedAt).toBe("2026-11-02T10:00:00.000Z");
  });

  it("the route answers a real time", async () => {
    const response = await call(new Request("https://edge.test/v1/stats", { headers: bearer() }));
    const { isolateStartedAt } = await response.json<{ isolateStartedAt: string }>();
    expect(Date.parse(isolateStartedAt)).toBeGreaterThan(Date.parse("2024-01-01T00:00:00Z"));
  });
});
