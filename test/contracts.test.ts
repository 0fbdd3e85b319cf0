import { env } from "cloudflare:workers";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config/config";
import { OUTCOMES } from "../src/core/outcomes";
import { REFERENCE_SCRIPT_PATH } from "../src/http/routes/docs";
import { answersOf, operations } from "../src/openapi/document";
import { faultyKv } from "./faults";
import { bearer, call, callWith, issue, jsonRequest, newIdentity, ORIGIN, VALIDATE_PATH } from "./helpers";
import { cookieValue, openSession, SESSIONS, withCookie } from "./sessions";
import { UNSERVED_TENANT } from "./test-env";

/**
 * Contracts beside their routes, checked against the routes: for every documented
 * operation, requests that provoke each answer it documents; every status seen must be
 * documented (with a documented retCode), and every documented status must be seen.
 * A bug's 500 is proven once for all routes in test/error-model.test.ts.
 */

type Send = (request: Request) => Promise<Response>;
type Scenario = readonly [label: string, request: () => Request | Promise<Request>, send?: Send];

const denyAll = { limit: async () => ({ success: false }) };
const failingKv = faultyKv(["get", "put"], "unavailable");
const rateLimited: Send = (request) => callWith({ ADDRESS_LIMITER: denyAll }, request);
const kvDown: Send = (request) => callWith({ TOKENS: failingKv }, request);
/** Static assets without /docs's script: the build step (scripts/docs-assets.mjs) did not run. */
const notBuilt: Send = (request) =>
  callWith({ ASSETS: { fetch: async () => new Response(null, { status: 404 }) } }, request);
const misconfigured: Send = (request) => callWith({ TOKEN_TTL_SECONDS: "soon" }, request);
/** A deployment with one key scoped to a tenant (API_KEY_SCOPES). */
const scopedKey: Send = (request) =>
  callWith(
    {
      API_KEYS: "acme:scoped-key-0123456789abcdef",
      API_KEY_SCOPES: JSON.stringify({ acme: ["202007159031"] }),
    },
    request,
  );
const production: Send = (request) => callWith({ ENVIRONMENT: "production" }, request);
const overHttp = (request: Request) => new Request(request.url.replace(/^https:/, "http:"), request);

const get = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, { headers });
const del = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, { method: "DELETE", headers });
const text = (path: string) =>
  new Request(`${ORIGIN}${path}`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" });
const huge = (path: string, headers: Record<string, string> = {}) =>
  jsonRequest(path, { padding: "x".repeat(5000) }, { headers });

/** An identity provider played by the test, behind a mocked fetch. */
const IDP = "https://contracts.idp.test";
let signIdentity: (claims?: Record<string, unknown>) => Promise<string>;
let providerDown = false;
const identityEnv = {
  IDENTITY_ISSUERS: JSON.stringify([
    {
      issuer: IDP,
      audience: "cec-edge-token",
      jwksUri: `${IDP}/jwks.json`,
      tenantSpaceIds: ["202007159031"],
    },
  ]),
};
const withIdentity: Send = (request) => callWith(identityEnv, request);

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" };
  vi.spyOn(globalThis, "fetch").mockImplementation(async () =>
    providerDown ? new Response("down", { status: 500 }) : Response.json({ keys: [jwk] }),
  );
  signIdentity = (claims = {}) =>
    new SignJWT({ name: "Alice", ...claims })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer(IDP)
      .setAudience("cec-edge-token")
      .setSubject("alice")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(privateKey);
});
beforeEach(() => {
  for (const level of ["log", "warn", "error"] as const)
    vi.spyOn(console, level).mockImplementation(() => {});
});
afterEach(() => {
  providerDown = false;
});

async function sessionCookie() {
  return cookieValue(await openSession(newIdentity()));
}

/** What provokes each documented answer, per operation. */
const scenarios: Record<string, () => Promise<readonly Scenario[]>> = {
  [`post ${VALIDATE_PATH}`]: async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const body = { Token: token, ...identity };
    return [
      ["valid", () => jsonRequest(VALIDATE_PATH, body)],
      ["a verdict", () => jsonRequest(VALIDATE_PATH, { ...body, Token: "a.b.c" })],
      ["missing field", () => jsonRequest(VALIDATE_PATH, { Token: token })],
      ["too large", () => huge(VALIDATE_PATH)],
      ["not JSON", () => text(VALIDATE_PATH)],
      ["address ceiling", () => jsonRequest(VALIDATE_PATH, body), rateLimited],
      ["KV down", () => jsonRequest(VALIDATE_PATH, body), kvDown],
    ];
  },
  "post /v1/tokens": async () => {
    const identity = newIdentity();
    const asKey = () => jsonRequest("/v1/tokens", identity, { headers: bearer() });
    const asUser = async (body: Record<string, unknown>) =>
      jsonRequest("/v1/tokens", body, { headers: { Authorization: `Bearer ${await signIdentity()}` } });
    const providerFailing: Send = async (request) => {
      providerDown = true;
      return callWith(
        { IDENTITY_ISSUERS: identityEnv.IDENTITY_ISSUERS.replace("contracts", "down") },
        request,
      );
    };
    return [
      ["issued", asKey],
      ["no key", () => jsonRequest("/v1/tokens", identity)],
      ["missing field", () => jsonRequest("/v1/tokens", { userId: "u" }, { headers: bearer() })],
      ["too large", () => huge("/v1/tokens", bearer())],
      [
        "not JSON",
        () => new Request(text("/v1/tokens"), { headers: { ...bearer(), "Content-Type": "text/plain" } }),
      ],
      [
        "tenant not served",
        () =>
          jsonRequest("/v1/tokens", { ...identity, tenantSpaceId: UNSERVED_TENANT }, { headers: bearer() }),
      ],
      [
        "identity token invalid",
        async () =>
          jsonRequest(
            "/v1/tokens",
            { tenantSpaceId: "202007159031" },
            { headers: { Authorization: `Bearer ${(await signIdentity()).slice(0, -4)}AAAA` } },
          ),
        withIdentity,
      ],
      ["another user", () => asUser({ tenantSpaceId: "202007159031", userId: "mallory" }), withIdentity],
      [
        "provider down",
        async () =>
          jsonRequest(
            "/v1/tokens",
            { tenantSpaceId: "202007159031" },
            {
              headers: {
                Authorization: `Bearer ${await new SignJWT({})
                  .setProtectedHeader({ alg: "ES256", kid: "k1" })
                  .setIssuer(IDP.replace("contracts", "down"))
                  .sign((await generateKeyPair("ES256")).privateKey)}`,
              },
            },
          ),
        providerFailing,
      ],
      ["address ceiling", asKey, rateLimited],
      ["KV down", asKey, kvDown],
    ];
  },
  "delete /v1/tokens/{tokenId}": async () => {
    const { tokenId } = await issue(newIdentity());
    const revoke = () => del(`/v1/tokens/${tokenId}`, bearer());
    return [
      ["revoked", revoke],
      ["not a token id", () => del("/v1/tokens/..%2F..", bearer())],
      ["no key", () => del(`/v1/tokens/${tokenId}`)],
      ["address ceiling", revoke, rateLimited],
      ["KV down", revoke, kvDown],
    ];
  },
  "post /v1/revocations": async () => {
    const identity = newIdentity();
    const body = { tenantSpaceId: identity.tenantSpaceId, userId: identity.userId };
    const revoke = () => jsonRequest("/v1/revocations", body, { headers: bearer() });
    return [
      ["revoked", revoke],
      ["no key", () => jsonRequest("/v1/revocations", body)],
      ["missing field", () => jsonRequest("/v1/revocations", { userId: "u" }, { headers: bearer() })],
      ["too large", () => huge("/v1/revocations", bearer())],
      [
        "not JSON",
        () =>
          new Request(text("/v1/revocations"), { headers: { ...bearer(), "Content-Type": "text/plain" } }),
      ],
      [
        "tenant not served",
        () =>
          jsonRequest("/v1/revocations", { ...body, tenantSpaceId: UNSERVED_TENANT }, { headers: bearer() }),
      ],
      ["address ceiling", revoke, rateLimited],
      ["KV down", revoke, kvDown],
    ];
  },
  [`post ${SESSIONS}`]: async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const open =
      (extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
      () =>
        jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1", ...extra }, { headers });
    return [
      ["opened", open()],
      ["a verdict", open({ Token: "a.b.c" })],
      ["tenant not served", open({ tenantSpaceId: UNSERVED_TENANT })],
      ["missing field", open({ channelId: undefined })],
      ["too large", () => huge(SESSIONS)],
      ["not JSON", () => text(SESSIONS)],
      ["foreign origin", open({}, { Origin: "https://evil.example" })],
      ["address ceiling", open(), rateLimited],
      ["KV down", open(), kvDown],
    ];
  },
  [`delete ${SESSIONS}`]: async () => {
    const value = await sessionCookie();
    return [
      ["ended", () => del(SESSIONS, withCookie(value))],
      ["foreign origin", () => del(SESSIONS, { ...withCookie(value), Origin: "https://evil.example" })],
      ["address ceiling", () => del(SESSIONS, withCookie(value)), rateLimited],
      ["KV down", () => del(SESSIONS, withCookie(value)), kvDown],
    ];
  },
  "get /v1/web-channel/verify": async () => sessionRoute("/v1/web-channel/verify"),
  "get /v1/web-channel/me": async () => sessionRoute("/v1/web-channel/me"),
  "get /v1/stats": async () => [
    ["counters", () => get("/v1/stats", bearer())],
    ["no key", () => get("/v1/stats")],
    ["a key scoped to tenants", () => get("/v1/stats", bearer("scoped-key-0123456789abcdef")), scopedKey],
    ["address ceiling", () => get("/v1/stats", bearer()), rateLimited],
  ],
  "get /openapi.json": async () => [
    ["the document", () => get("/openapi.json")],
    ["not built", () => get("/openapi.json"), notBuilt],
  ],
  "get /docs": async () => [["the page", () => get("/docs")]],
  [`get ${REFERENCE_SCRIPT_PATH}`]: async () => {
    const etag = (await call(get(REFERENCE_SCRIPT_PATH))).headers.get("ETag") ?? "";
    return [
      ["the script", () => get(REFERENCE_SCRIPT_PATH)],
      ["revalidated", () => get(REFERENCE_SCRIPT_PATH, { "If-None-Match": etag })],
      ["not built", () => get(REFERENCE_SCRIPT_PATH), notBuilt],
    ];
  },
  "get /healthz": async () => [["alive", () => get("/healthz")]],
};

async function sessionRoute(path: string): Promise<readonly Scenario[]> {
  const value = await sessionCookie();
  return [
    ["valid", () => get(path, withCookie(value))],
    ["no credential", () => get(path)],
    ["address ceiling", () => get(path, withCookie(value)), rateLimited],
    ["KV down", () => get(path, withCookie(value)), kvDown],
  ];
}

/** Answers every route gives: a configuration error, and plain HTTP in production. */
function anyRoute(first: Scenario): readonly Scenario[] {
  return [
    ["misconfigured", first[1], misconfigured],
    ["plain HTTP in production", async () => overHttp(await first[1]()), production],
  ];
}

const config = await loadConfig(env);

describe("every documented operation answers exactly what it documents", () => {
  it.each(
    operations(config).map((operation) => [`${operation.method} ${operation.path}`, operation] as const),
  )("%s", async (key, operation) => {
    const provoke = scenarios[key];
    expect(provoke, `no scenarios for ${key}`).toBeDefined();
    const list = await (provoke as () => Promise<readonly Scenario[]>)();
    const documented = answersOf(operation);
    const seen = new Set<number>();
    for (const scenario of [...list, ...anyRoute(list[0] as Scenario)]) {
      const [label, request, send = call] = scenario;
      const response = await send(await request());
      seen.add(response.status);
      const answer = documented.get(response.status);
      expect(answer, `${label}: status ${response.status} is not documented`).toBeDefined();
      if (response.headers.get("Content-Type")?.startsWith("application/json") && answer?.retCodes.length) {
        const body = await response.json<{ retCode?: number }>();
        if (body.retCode !== undefined && body.retCode !== 0) {
          const retCodes = answer.retCodes.map((outcome) => OUTCOMES[outcome].retCode);
          expect(
            retCodes,
            `${label}: retCode ${body.retCode} not documented for ${response.status}`,
          ).toContain(body.retCode);
        }
      }
    }
    const unseen = [...documented.keys()].filter((status) => status !== 500 && !seen.has(status));
    expect(unseen, "documented but never answered").toEqual([]);
  });
});
