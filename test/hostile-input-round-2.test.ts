import { afterEach, describe, expect, it, vi } from "vitest";
import { DEVELOPMENT_DEFAULTS } from "../src/config/development";
import { bearer, call, callWith, claimsFor, mintToken, newIdentity, validateRequest } from "./helpers";
import { captureLogs } from "./log-capture";
import { TEST_BINDINGS } from "./test-env";

/**
 * The second round of black-box attacks (issue 13): each test here failed on the code
 * the attack was run against. The first round is test/hostile-input.test.ts.
 */

const { logged, requestLines, securityLines } = captureLogs();

const _SESSIONS = "/v1/web-channel/sessions";
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
