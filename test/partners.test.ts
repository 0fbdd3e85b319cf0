import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { nowSeconds } from "../src/core/time";
import { TokenService } from "../src/index";
import { kvKey, tokenRefOf } from "../src/state/keys";
import { NO_KV_MEMO } from "./faults";
import { callWith, jsonRequest, newIdentity, validate } from "./helpers";
import { TEST_BINDINGS, TEST_TENANT, TEST_TENANT_OTHER } from "./test-env";

/**
 * A partner serves several enterprises' tenant spaces from one deployment (issue 22): each
 * customer's backend holds a key scoped to its own tenants, so one leaked key speaks for
 * no other customer. Both consistency modes.
 */

const ACME_KEY = "acme-key-0123456789abcdef";
const GLOBEX_KEY = "globex-key-0123456789abcdef";
const OPERATOR_KEY = "operator-key-0123456789abcdef";
const PARTNER_VARIABLES = {
  API_KEYS: `acme:${ACME_KEY},globex:${GLOBEX_KEY},${OPERATOR_KEY}`,
  API_KEY_SCOPES: JSON.stringify({ acme: [TEST_TENANT], globex: [TEST_TENANT_OTHER] }),
};
const as = (key: string) => ({ Authorization: `Bearer ${key}` });

let logged: Record<string, unknown>[];
beforeEach(() => {
  logged = [];
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((line: unknown) => {
      if (typeof line === "object" && line !== null) logged.push(line as Record<string, unknown>);
    });
  }
});
afterEach(() => vi.restoreAllMocks());

const MODES = { eventual: {}, strict: { CONSISTENCY: "strict" } } as const;

describe.each(Object.keys(MODES) as (keyof typeof MODES)[])("%s mode: API keys scoped to tenants", (mode) => {
  type Send = (request: Request) => Promise<Response>;
  const send: Send = (request) => callWith({ ...MODES[mode], ...PARTNER_VARIABLES }, request);
  const issueAs = async (key: string, identity: ReturnType<typeof newIdentity>) =>
    send(jsonRequest("/v1/tokens", identity, { headers: as(key) }));
  const revokeTokenAs = (key: string, tokenId: string) =>
    send(new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: as(key) }));

  it("a scoped key issues for its tenants only: another served tenant is 403 retCode 7, nothing stored", async () => {
    const own = await issueAs(ACME_KEY, newIdentity());
    expect(own.status).toBe(201);
    const before = (await env.TOKENS.list({ prefix: "token:" })).keys.length;
    const other = await issueAs(ACME_KEY, newIdentity({ tenantSpaceId: TEST_TENANT_OTHER }));
    expect(other.status).toBe(403);
    expect(await other.json()).toEqual({
      retCode: 7,
      message: "tenant space not served by this deployment: tenantSpaceId is not in this API key's scope",
    });
    expect((await env.TOKENS.list({ prefix: "token:" })).keys.length).toBe(before);
  });

  it("a scoped key revokes only its tenants' tokens; an id that names no token still answers 204", async () => {
    const victim = newIdentity({ tenantSpaceId: TEST_TENANT_OTHER });
    const { token, tokenId } = await (await issueAs(GLOBEX_KEY, victim)).json<{
      token: string;
      tokenId: string;
    }>();
    const refused = await revokeTokenAs(ACME_KEY, tokenId);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ retCode: 7 });
    expect((await validate(token, victim, send)).body.retCode).toBe(0);

    expect((await revokeTokenAs(ACME_KEY, "AAAAAAAAAAAAAAAAAAAAAA")).status).toBe(204);

    const own = newIdentity();
    const issued = await (await issueAs(ACME_KEY, own)).json<{ token: string; tokenId: string }>();
    expect((await revokeTokenAs(ACME_KEY, issued.tokenId)).status).toBe(204);
    expect((await validate(issued.token, own, send)).body.retCode).toBe(6);
  });

  it("a scoped key revokes only its tenants' users", async () => {
    const revoke = (tenantSpaceId: string) =>
      send(jsonRequest("/v1/revocations", { tenantSpaceId, userId: "u-1" }, { headers: as(ACME_KEY) }));
    expect((await revoke(TEST_TENANT_OTHER)).status).toBe(403);
    expect((await revoke(TEST_TENANT)).status).toBe(200);
  });

  it("a key with no scope acts for every served tenant", async () => {
    for (const tenantSpaceId of [TEST_TENANT, TEST_TENANT_OTHER]) {
      expect((await issueAs(OPERATOR_KEY, newIdentity({ tenantSpaceId }))).status).toBe(201);
    }
  });

  it("/v1/stats counts every tenant: a scoped key is refused (403 retCode 14), an unscoped one reads it", async () => {
    const stats = (key: string) => send(new Request("https://edge.test/v1/stats", { headers: as(key) }));
    const refused = await stats(ACME_KEY);
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({
      retCode: 14,
      message: "not permitted for this identity: /v1/stats counts every tenant; use a key with no scope",
    });
    expect((await stats(OPERATOR_KEY)).status).toBe(200);
  });

  it("logs and security events name the key that acted, never the key itself", async () => {
    await issueAs(ACME_KEY, newIdentity());
    await issueAs(OPERATOR_KEY, newIdentity());
    const requests = logged.filter((line) => line.event === "request" && line.route === "/v1/tokens");
    expect(requests.map((line) => line.apiKey)).toEqual(["acme", 3]);
    const deny = { limit: async () => ({ success: false }) };
    await callWith(
      { ...MODES[mode], ...PARTNER_VARIABLES, ISSUE_LIMITER: deny },
      jsonRequest("/v1/tokens", newIdentity(), { headers: as(ACME_KEY) }),
    );
    expect(logged).toContainEqual(
      expect.objectContaining({ event: "security", kind: "rate_limit_hit", apiKey: "acme" }),
    );
    expect(JSON.stringify(logged)).not.toContain(ACME_KEY);
  });
});

describe("eventual mode: a scoped key's revocation never replaces another tenant's end", () => {
  const send = (request: Request, extra: Record<string, string> = {}) =>
    callWith({ ...PARTNER_VARIABLES, ...extra }, request);

  it("even at a location that has not seen the other tenant's token or its tombstone", async () => {
    const victim = newIdentity({ tenantSpaceId: TEST_TENANT_OTHER });
    // Issued at another location (nothing put in this location's memo)…
    const issued = await send(jsonRequest("/v1/tokens", victim, { headers: as(GLOBEX_KEY) }), NO_KV_MEMO);
    const { token, tokenId } = await issued.json<{ token: string; tokenId: string }>();
    const key = kvKey.token(await tokenRefOf(tokenId));
    // …and not seen here yet: this location's memo holds "not found"…
    await env.TOKENS.delete(key);
    await validate(token, victim, send);
    // …when globex's revocation, made at another location, reaches KV.
    await env.TOKENS.put(key, JSON.stringify({ state: "revoked", revokedAt: nowSeconds() }), {
      expirationTtl: 3_600,
    });
    const refused = await send(
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: as(ACME_KEY) }),
    );
    expect(refused.status).toBe(403);
    expect(await env.TOKENS.get(key, "json")).toMatchObject({ state: "revoked" });
    expect(await env.TOKENS.get(key, "json")).not.toHaveProperty("tenants");
    const everywhere = (request: Request) => send(request, NO_KV_MEMO);
    expect((await validate(token, victim, everywhere)).body.retCode).toBe(6);
  });

  it("a scoped key's own token is revoked by id alone, with no read, wherever it was issued", async () => {
    const own = newIdentity();
    const issued = await send(jsonRequest("/v1/tokens", own, { headers: as(ACME_KEY) }));
    const { token, tokenId } = await issued.json<{ token: string; tokenId: string }>();
    await env.TOKENS.delete(kvKey.token(await tokenRefOf(tokenId))); // not seen here
    const revoked = await send(
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: as(ACME_KEY) }),
      NO_KV_MEMO,
    );
    expect(revoked.status).toBe(204);
    expect((await validate(token, own, (request) => send(request, NO_KV_MEMO))).body.retCode).toBe(6);
  });
});

describe("API_KEY_SCOPES is checked with the configuration", () => {
  const healthz = (variables: Record<string, string>) =>
    callWith({ ...TEST_BINDINGS, ...variables }, new Request("https://edge.test/healthz"));

  it.each([
    [
      "a scope naming an unknown key",
      { API_KEYS: `acme:${ACME_KEY}`, API_KEY_SCOPES: JSON.stringify({ initech: [TEST_TENANT] }) },
      "API_KEY_SCOPES names initech, which no entry of API_KEYS is named",
    ],
    [
      "a scope naming a tenant not served",
      { API_KEYS: `acme:${ACME_KEY}`, API_KEY_SCOPES: JSON.stringify({ acme: ["999999999999"] }) },
      "API_KEY_SCOPES gives acme a tenant space not in TENANT_SPACE_IDS",
    ],
    [
      "a key name used twice",
      { API_KEYS: `acme:${ACME_KEY},acme:${GLOBEX_KEY}` },
      "API_KEYS names two keys acme",
    ],
    ["a scope that is not a JSON object", { API_KEY_SCOPES: "[1]" }, "API_KEY_SCOPES must be a JSON object"],
  ])("%s is a configuration error naming the variable", async (_, variables, reason) => {
    const response = await healthz(variables);
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ retCode: 11, message: expect.stringContaining(reason) });
  });
});

describe("a partner's own Workers, over RPC, are scoped by their binding's props", () => {
  function serviceFor(props: Record<string, unknown>, bindings: Partial<Env> = {}) {
    const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props };
    return new TokenService(
      ctx as unknown as ExecutionContext,
      {
        ...env,
        ...PARTNER_VARIABLES,
        ...bindings,
      } as Env,
    );
  }

  it("each binding has its own budgets: one partner's Worker cannot spend another's", async () => {
    // A limiter whose budget for one key is spent: the key the acme binding spends on.
    const keys: string[] = [];
    const recording = { limit: async ({ key }: { key: string }) => ({ success: keys.push(key) > 0 }) };
    const acmeProps = { name: "acme-portal", tenantSpaceIds: [TEST_TENANT] };
    await serviceFor(acmeProps, { END_LIMITER: recording as RateLimit }).revokeUser({
      tenantSpaceId: TEST_TENANT,
      userId: "u-1",
    });
    const spent = {
      limit: async ({ key }: { key: string }) => ({ success: !keys.includes(key) }),
    } as RateLimit;
    const acme = serviceFor(acmeProps, { END_LIMITER: spent });
    const globex = serviceFor(
      { name: "globex-portal", tenantSpaceIds: [TEST_TENANT_OTHER] },
      { END_LIMITER: spent },
    );
    expect(await acme.revokeUser({ tenantSpaceId: TEST_TENANT, userId: "u-2" })).toMatchObject({
      retCode: 8,
    });
    expect(await globex.revokeUser({ tenantSpaceId: TEST_TENANT_OTHER, userId: "u-2" })).toMatchObject({
      retCode: 0,
    });
  });

  it("props.tenantSpaceIds scopes the binding: another tenant answers retCode 7", async () => {
    const acme = serviceFor({ name: "acme-portal", tenantSpaceIds: [TEST_TENANT] });
    expect(await acme.issueToken(newIdentity())).toMatchObject({ retCode: 0 });
    expect(await acme.issueToken(newIdentity({ tenantSpaceId: TEST_TENANT_OTHER }))).toEqual({
      retCode: 7,
      message: "tenant space not served by this deployment: tenantSpaceId is not in this binding's scope",
    });
    expect(await acme.revokeUser({ tenantSpaceId: TEST_TENANT_OTHER, userId: "u-1" })).toMatchObject({
      retCode: 7,
    });
  });

  it("props that do not name served tenants are a configuration error of that binding (retCode 11)", async () => {
    expect(await serviceFor({ tenantSpaceIds: ["999999999999"] }).issueToken(newIdentity())).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("props.tenantSpaceIds"),
    });
  });
});
