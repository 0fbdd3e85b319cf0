import { describe, expect, it, vi } from "vitest";
import { parseConfig } from "../src/config/config";
import { DEVELOPMENT_DEFAULTS } from "../src/config/development";
import {
  callWith,
  claimsFor,
  DEVELOPMENT_ENV,
  issue,
  jsonRequest,
  mintToken,
  newIdentity,
  validate,
  validateRequest,
} from "./helpers";
import { TEST_BINDINGS, TEST_SIGNING_KEY_CURRENT, TEST_SIGNING_KEY_OLDER } from "./test-env";

const health = () => new Request("https://edge.test/healthz");

async function configError(overrides: Record<string, unknown>, request = health()) {
  const response = await callWith(overrides, request);
  return { status: response.status, body: await response.json<{ retCode: number; message: string }>() };
}

describe("configuration", () => {
  it.each([
    ["TOKEN_TTL_SECONDS", "000"],
    ["TOKEN_TTL_SECONDS", "86401"],
    ["TOKEN_TTL_SECONDS", "5m"],
    ["TOKEN_TTL_SECONDS", "1e3"],
    ["SESSION_MAX_LIFETIME_SECONDS", "59"],
    ["SESSION_MAX_LIFETIME_SECONDS", "604801"],
    ["CLOCK_TOLERANCE_SECONDS", "-1"],
    ["CLOCK_TOLERANCE_SECONDS", "301"],
    ["ENVIRONMENT", "prod-eu"],
    ["CONSISTENCY", "linearizable"],
    ["TOKEN_MAX_USES", "-1"],
    ["TOKEN_MAX_USES", "1001"],
    ["TOKEN_MAX_USES", "once"],
    ["LEDGER_LOCATION_HINT", "us-east-1"],
    ["VALIDATE_PATH", "no-leading-slash"],
    ["VALIDATE_PATH", "/v1/tokens"],
    ["TENANT_SPACE_IDS", "a b"],
    ["API_KEYS", "short"],
    ["SIGNING_KEYS", "no-separator"],
    ["SIGNING_KEYS", "kid:c2hvcnQ"],
    ["SIGNING_KEYS", "bad kid!:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"],
    [
      "SIGNING_KEYS",
      "a:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE,a:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI",
    ],
  ])(
    "a bad %s (%j) makes every request answer retCode 11, naming the variable, never the value",
    async (variable, value) => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      for (const request of [health(), validateRequest("x", newIdentity())]) {
        const { status, body } = await configError({ [variable]: value }, request);
        expect(status).toBe(503);
        expect(body.retCode).toBe(11);
        expect(body.message).toContain(variable);
        expect(body.message).not.toContain(value);
      }
      const logged = JSON.stringify(errors.mock.calls);
      expect(logged).toContain(variable);
      expect(logged).not.toContain(value);
      errors.mockRestore();
    },
  );

  it("uses the defaults for unset and empty optional variables", async () => {
    const identity = newIdentity();
    const send = (request: Request) =>
      callWith(
        { TOKEN_TTL_SECONDS: undefined, CLOCK_TOLERANCE_SECONDS: "", VALIDATE_PATH: undefined },
        request,
      );
    const { expiresIn, token } = await issue(identity, {}, send);
    expect(expiresIn).toBe(300);
    expect((await validate(token, identity, send)).body.retCode).toBe(0);
  });

  it("TOKEN_TTL_SECONDS sets the default and maximum lifetime", async () => {
    const send = (request: Request) => callWith({ TOKEN_TTL_SECONDS: "60" }, request);
    expect((await issue(newIdentity(), {}, send)).expiresIn).toBe(60);
    expect((await issue(newIdentity(), { ttlSeconds: 600 }, send)).expiresIn).toBe(60);
  });

  it("CLOCK_TOLERANCE_SECONDS=0 refuses a token one second past exp", async () => {
    const identity = newIdentity();
    const token = await mintToken(claimsFor(identity, { ageSeconds: 61, ttlSeconds: 60 }));
    const send = (request: Request) => callWith({ CLOCK_TOLERANCE_SECONDS: "0" }, request);
    expect((await validate(token, identity, send)).body.retCode).toBe(3);
    expect((await validate(token, identity)).body.retCode).toBe(0); // default tolerance 5 s
  });

  it("VALIDATE_PATH moves the validate route", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const send = (request: Request) => callWith({ VALIDATE_PATH: "/auth/cec/validate" }, request);
    const moved = await send(validateRequest(token, identity, "/auth/cec/validate"));
    expect(await moved.json()).toEqual({ retCode: 0, message: "validate success" });
    const old = await send(validateRequest(token, identity));
    expect(old.status).toBe(404);
  });

  describe("consistency (CONSISTENCY, TOKEN_MAX_USES, LEDGER_LOCATION_HINT)", () => {
    it("defaults to eventual mode: unlimited uses, no location hint", async () => {
      const { consistency } = await parseConfig(TEST_BINDINGS);
      expect(consistency).toEqual({
        mode: "eventual",
        epoch: "eventual",
        tokenMaxUses: null,
        ledgerLocationHint: undefined,
      });
    });

    it("strict mode takes every setting, at both ends of each range", async () => {
      const parse = (overrides: Record<string, string>) =>
        parseConfig({ ...TEST_BINDINGS, CONSISTENCY: "strict", ...overrides });
      expect(
        (await parse({ TOKEN_MAX_USES: "1", LEDGER_LOCATION_HINT: "weur", CONSISTENCY_EPOCH: "2026-12-02" }))
          .consistency,
      ).toEqual({
        mode: "strict",
        epoch: "strict:2026-12-02",
        startedAt: Date.UTC(2026, 11, 2) / 1000,
        tokenMaxUses: 1,
        ledgerLocationHint: "weur",
      });
      expect((await parse({ TOKEN_MAX_USES: "1000", LEDGER_LOCATION_HINT: "" })).consistency).toEqual({
        mode: "strict",
        epoch: "strict",
        tokenMaxUses: 1000,
        ledgerLocationHint: undefined,
      });
      for (const hint of ["wnam", "enam", "sam", "eeur", "apac", "oc", "afr", "me"]) {
        expect((await parse({ LEDGER_LOCATION_HINT: hint })).consistency.ledgerLocationHint).toBe(hint);
      }
    });

    it.each([undefined, "eventual"])(
      "TOKEN_MAX_USES with CONSISTENCY=%s is a configuration error naming it (KV cannot count uses)",
      async (mode) => {
        const errors = vi.spyOn(console, "error").mockImplementation(() => {});
        const { status, body } = await configError({ CONSISTENCY: mode, TOKEN_MAX_USES: "1" });
        expect(status).toBe(503);
        expect(body.retCode).toBe(11);
        expect(body.message).toContain("TOKEN_MAX_USES needs CONSISTENCY=strict");
        errors.mockRestore();
      },
    );
  });

  describe("secrets", () => {
    it("development runs on the committed development secrets when none are set", async () => {
      const send = (request: Request) => callWith(DEVELOPMENT_ENV, request);
      const identity = newIdentity({ tenantSpaceId: DEVELOPMENT_DEFAULTS.TENANT_SPACE_IDS });
      const response = await send(
        jsonRequest("/v1/tokens", identity, {
          headers: { Authorization: `Bearer ${DEVELOPMENT_DEFAULTS.API_KEYS}` },
        }),
      );
      expect(response.status).toBe(201);
      const { token } = await response.json<{ token: string }>();
      expect((await validate(token, identity, send)).body.retCode).toBe(0);
    });

    it.each(["SIGNING_KEYS", "API_KEYS", "TENANT_SPACE_IDS"])(
      "production refuses to serve without %s, and says how to set it",
      async (variable) => {
        const errors = vi.spyOn(console, "error").mockImplementation(() => {});
        const { status, body } = await configError({
          ...TEST_BINDINGS,
          ENVIRONMENT: "production",
          [variable]: undefined,
        });
        expect(status).toBe(503);
        expect(body).toEqual({
          retCode: 11,
          message: `service misconfigured: ${variable} is not set (${
            variable === "TENANT_SPACE_IDS"
              ? "set it under [env.production.vars] in wrangler.toml"
              : `set it with \`wrangler secret put ${variable} --env production\``
          })`,
        });
        errors.mockRestore();
      },
    );

    it("reports every problem at once, in one answer and one log line, with fixes for the environment", async () => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const { status, body } = await configError({
        ENVIRONMENT: "staging",
        SIGNING_KEYS: undefined,
        API_KEYS: DEVELOPMENT_DEFAULTS.API_KEYS,
        TENANT_SPACE_IDS: "",
        TOKEN_TTL_SECONDS: "5m",
        ALLOWED_ORIGINS: "http://shop.example.com",
        PLAYGROUND: "maybe",
      });
      expect(status).toBe(503);
      expect(body.retCode).toBe(11);
      for (const expected of [
        "TOKEN_TTL_SECONDS must be a whole number",
        "PLAYGROUND must be on or off",
        "TENANT_SPACE_IDS is not set (set it under [env.staging.vars] in wrangler.toml)",
        "API_KEYS holds the committed development key",
        "`wrangler secret put API_KEYS --env staging`",
        "SIGNING_KEYS is not set (set it with `wrangler secret put SIGNING_KEYS --env staging`)",
        "ALLOWED_ORIGINS may list only https origins",
      ]) {
        expect(body.message).toContain(expected);
      }
      expect(errors).toHaveBeenCalledTimes(1);
      const logged = JSON.stringify(errors.mock.calls);
      for (const variable of [
        "TOKEN_TTL_SECONDS",
        "PLAYGROUND",
        "TENANT_SPACE_IDS",
        "API_KEYS",
        "SIGNING_KEYS",
      ]) {
        expect(logged).toContain(variable);
      }
      expect(logged).not.toContain(DEVELOPMENT_DEFAULTS.API_KEYS);
      expect(logged).not.toContain("shop.example.com");
      errors.mockRestore();
    });

    it("outside a deployment the fix points to [vars] and .dev.vars", async () => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const { body } = await configError({ ENVIRONMENT: "test", TENANT_SPACE_IDS: undefined });
      expect(body.message).toBe(
        "service misconfigured: TENANT_SPACE_IDS is not set (set it under [vars] in wrangler.toml, or in .dev.vars)",
      );
      errors.mockRestore();
    });

    it.each(["production", "staging"])("%s refuses the development secrets", async (environment) => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const devSigning = await configError({
        ENVIRONMENT: environment,
        SIGNING_KEYS: DEVELOPMENT_DEFAULTS.SIGNING_KEYS,
      });
      expect(devSigning.body.retCode).toBe(11);
      expect(devSigning.body.message).toContain("SIGNING_KEYS holds the committed development key");
      const devApi = await configError({ ENVIRONMENT: environment, API_KEYS: DEVELOPMENT_DEFAULTS.API_KEYS });
      expect(devApi.body.message).toContain("API_KEYS holds the committed development key");
      errors.mockRestore();
    });

    it("an unset ENVIRONMENT is production", async () => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const { body } = await configError({ ENVIRONMENT: undefined, API_KEYS: DEVELOPMENT_DEFAULTS.API_KEYS });
      expect(body.message).toContain("refused when ENVIRONMENT=production");
      errors.mockRestore();
    });

    it("a single plain API key works", async () => {
      const key = "one-plain-key-for-the-backend";
      const response = await callWith(
        { API_KEYS: key },
        jsonRequest("/v1/tokens", newIdentity(), { headers: { Authorization: `Bearer ${key}` } }),
      );
      expect(response.status).toBe(201);
    });
  });

  describe("key rotation", () => {
    const keyList = (...keys: { kid: string; secret: string }[]) =>
      keys.map((k) => `${k.kid}:${k.secret}`).join(",");

    it("signs with the first key; a token signed with an older listed key still validates", async () => {
      const identity = newIdentity();
      const withOlderFirst = (request: Request) =>
        callWith({ SIGNING_KEYS: keyList(TEST_SIGNING_KEY_OLDER, TEST_SIGNING_KEY_CURRENT) }, request);
      const { token } = await issue(identity, {}, withOlderFirst);
      expect(JSON.parse(atob(token.split(".")[0] ?? "")).kid).toBe(TEST_SIGNING_KEY_OLDER.kid);
      expect((await validate(token, identity)).body.retCode).toBe(0);
    });

    it("a token whose key was removed no longer validates", async () => {
      const identity = newIdentity();
      const withOlderFirst = (request: Request) =>
        callWith({ SIGNING_KEYS: keyList(TEST_SIGNING_KEY_OLDER, TEST_SIGNING_KEY_CURRENT) }, request);
      const { token } = await issue(identity, {}, withOlderFirst);
      const withoutOlder = (request: Request) =>
        callWith({ SIGNING_KEYS: keyList(TEST_SIGNING_KEY_CURRENT) }, request);
      expect((await validate(token, identity, withoutOlder)).body).toEqual({
        retCode: 2,
        message: "token invalid: unknown key id",
      });
    });
  });
});

describe("HTTPS in production", () => {
  const production = { ENVIRONMENT: "production" };
  it("refuses plain HTTP with retCode 16, redirects a browser's GET, and sends HSTS over HTTPS", async () => {
    const post = await callWith(
      production,
      new Request("http://edge.test/v1/tokens", { method: "POST", body: "{}" }),
    );
    expect(post.status).toBe(403);
    expect(await post.json()).toEqual({
      retCode: 16,
      message: "HTTPS required: resend this request over https://",
    });
    const get = await callWith(production, new Request("http://edge.test/healthz?x=1"));
    expect(get.status).toBe(301);
    expect(get.headers.get("Location")).toBe("https://edge.test/healthz?x=1");
    const secure = await callWith(production, new Request("https://edge.test/openapi.json"));
    expect(secure.status).toBe(200);
    expect(secure.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
  });

  it("leaves plain HTTP alone in development and tests (wrangler dev serves http://localhost)", async () => {
    expect((await callWith({}, new Request("http://edge.test/healthz"))).status).toBe(200);
  });
});
