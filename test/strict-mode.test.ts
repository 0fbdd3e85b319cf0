import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SHORT_STORE_DEADLINE } from "./faults";
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
  validate,
} from "./helpers";
import { freshIdentityProvider, type PublishedKeySets, serveKeySets } from "./identity-provider";
import { cookieValue, endSession, openSession, SESSIONS, verify, withCookie } from "./sessions";
import { TEST_TENANT } from "./test-env";

/**
 * CONSISTENCY=strict over HTTP: what only the ledger can promise (counted uses, exactly
 * one winner of a race), its failures, and switching modes. The revocation, logout and
 * lifetime semantics shared with the eventual mode are in test/revocation.test.ts, run in
 * both modes.
 */

type Send = (request: Request) => Promise<Response>;
const strict =
  (variables: Record<string, string> = {}): Send =>
  (request) =>
    callWith({ CONSISTENCY: "strict", ...variables }, request);
const eventual: Send = call;

beforeEach(() => {
  for (const level of ["log", "warn", "error"] as const)
    vi.spyOn(console, level).mockImplementation(() => {});
});
afterEach(() => vi.restoreAllMocks());

const retCodes = async (responses: Response[]) =>
  Promise.all(responses.map(async (response) => (await response.json<{ retCode: number }>()).retCode));

const revokeToken = (tokenId: string, send: Send) =>
  send(new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }));

describe("TOKEN_MAX_USES", () => {
  it("50 concurrent validations of a single-use token: exactly one retCode 0, the rest retCode 17", async () => {
    // TOKEN_LIMITER (20 a minute per token) would refuse most of them first: let them all through.
    const allowAll = { limit: async () => ({ success: true }) };
    const send: Send = (request) =>
      callWith({ CONSISTENCY: "strict", TOKEN_MAX_USES: "1", TOKEN_LIMITER: allowAll }, request);
    for (let round = 0; round < 3; round++) {
      const identity = newIdentity();
      const { token } = await issue(identity, {}, send);
      const answers = await retCodes(
        await Promise.all(
          Array.from({ length: 50 }, () => send(jsonRequest(VALIDATE_PATH, { Token: token, ...identity }))),
        ),
      );
      expect(answers.filter((code) => code === 0)).toHaveLength(1);
      expect(answers.filter((code) => code === 17)).toHaveLength(49);
    }
  });

  it("counts every validation and session open; the answer past the count is 'token already used'", async () => {
    const send = strict({ TOKEN_MAX_USES: "3" });
    const identity = newIdentity();
    const { token } = await issue(identity, {}, send);
    expect((await validate(token, identity, send)).body.retCode).toBe(0);
    const opened = await send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" }));
    expect(opened.status).toBe(200);
    expect((await validate(token, identity, send)).body.retCode).toBe(0);
    expect(await validate(token, identity, send)).toEqual({
      status: 200,
      body: { retCode: 17, message: "token already used" },
    });
    const tooLate = await send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-2" }));
    expect(tooLate.status).toBe(401);
    expect(await tooLate.json()).toEqual({ retCode: 17, message: "token already used" });
    expect(tooLate.headers.get("Set-Cookie")).toBeNull();
  });

  it("a refused validation (wrong identity) uses nothing up", async () => {
    const send = strict({ TOKEN_MAX_USES: "1" });
    const identity = newIdentity();
    const { token } = await issue(identity, {}, send);
    expect((await validate(token, { ...identity, userName: "someone else" }, send)).body.retCode).toBe(5);
    expect((await validate(token, identity, send)).body.retCode).toBe(0);
  });

  it("is a configuration error in eventual mode, naming the variable", async () => {
    const response = await callWith({ TOKEN_MAX_USES: "1" }, new Request("https://edge.test/healthz"));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("TOKEN_MAX_USES"),
    });
  });
});

describe("races the ledger decides", () => {
  it("two concurrent session opens for one (tenant, channel, user): exactly one live session", async () => {
    const send = strict();
    for (let round = 0; round < 5; round++) {
      const identity = newIdentity();
      const [first, second] = await Promise.all([1, 2].map(() => issue(identity, {}, send)));
      const opened = await Promise.all(
        [first, second].map((issued) =>
          send(jsonRequest(SESSIONS, { Token: issued?.token, ...identity, channelId: "web-1" })),
        ),
      );
      const live = await Promise.all(
        opened.map(async (response) => (await verify(withCookie(cookieValue(response)), send)).status),
      );
      expect(live.filter((status) => status === 204)).toHaveLength(1);
    }
  });

  it("revoking a token, ending a session and revoking a user take effect for the very next request", async () => {
    const send = strict();
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity, {}, send);
    await revokeToken(tokenId, send);
    expect((await validate(token, identity, send)).body.retCode).toBe(6);

    const value = cookieValue(await openSession(identity, "web-1", send));
    await endSession(value, send);
    expect((await verify(withCookie(value), send)).status).toBe(401);

    const other = newIdentity();
    const session = cookieValue(await openSession(other, "web-1", send));
    await send(
      jsonRequest(
        "/v1/revocations",
        { tenantSpaceId: other.tenantSpaceId, userId: other.userId },
        { headers: bearer() },
      ),
    );
    expect(await (await verify(withCookie(session), send)).json()).toMatchObject({ retCode: 6 });
  });

  it("a token the ledger never recorded is refused at once: no propagation grace", async () => {
    const identity = newIdentity();
    const token = await mintToken({ ...claimsFor(identity), cns: "strict" });
    expect(await validate(token, identity, strict())).toEqual({
      status: 200,
      body: { retCode: 6, message: "token revoked or unknown: token unknown" },
    });
  });
});

describe("the ledger failing fails closed", () => {
  /** The real binding, every stub's methods made to fail: fault injection, not a mock. */
  function failingLedger(fault: "throw" | "hang"): DurableObjectNamespace {
    return {
      idFromName: (name: string) => env.LEDGER.idFromName(name),
      get: (id: DurableObjectId) =>
        new Proxy(env.LEDGER.get(id), {
          get: () => () =>
            fault === "throw"
              ? Promise.reject(Object.assign(new Error("overloaded"), { overloaded: true }))
              : new Promise<never>(() => {}),
        }),
    } as unknown as DurableObjectNamespace;
  }

  it.each(["throw", "hang"] as const)(
    "%s: 503 retCode 4 with Retry-After on every route, never a success",
    async (fault) => {
      const identity = newIdentity();
      const { token } = await issue(identity, {}, strict());
      const value = cookieValue(await openSession(newIdentity(), "web-1", strict()));
      const failing: Send = (request) =>
        callWith({ CONSISTENCY: "strict", LEDGER: failingLedger(fault), ...SHORT_STORE_DEADLINE }, request);
      const answers = await Promise.all([
        failing(jsonRequest(VALIDATE_PATH, { Token: token, ...identity })),
        failing(jsonRequest("/v1/tokens", newIdentity(), { headers: bearer() })),
        failing(new Request("https://edge.test/v1/web-channel/verify", { headers: withCookie(value) })),
        failing(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" })),
      ]);
      for (const answer of answers) {
        expect(answer.status).toBe(503);
        expect(answer.headers.get("Retry-After")).toBe("1");
        expect(await answer.json()).toMatchObject({ retCode: 4 });
      }
    },
  );
});

describe("each mode is self-contained", () => {
  /** A binding that fails the test if the Worker so much as touches it. */
  const untouchable = (name: string) =>
    new Proxy(
      {},
      {
        get: (_, property) => {
          throw new Error(`${name}.${String(property)} was used`);
        },
      },
    );
  /** The real KV, with every read and write failing the test. */
  const kvUntouched = new Proxy(env.TOKENS, {
    get: (target, property) =>
      property === "get" || property === "put" || property === "delete"
        ? () => {
            throw new Error(`TOKENS.${String(property)} was called in strict mode`);
          }
        : Reflect.get(target, property),
  });

  /** Issue, validate, open, verify, end and revoke, each answered as it should be. */
  async function throughEveryStep(send: Send) {
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity, {}, send);
    expect((await validate(token, identity, send)).body.retCode).toBe(0);
    const value = cookieValue(await openSession(identity, "web-1", send));
    expect((await verify(withCookie(value), send)).status).toBe(204);
    expect((await endSession(value, send)).status).toBe(204);
    expect((await revokeToken(tokenId, send)).status).toBe(204);
    return { identity, token };
  }

  it("eventual mode serves every route with no LEDGER binding, and never calls the ledger", async () => {
    for (const ledger of [undefined, untouchable("LEDGER")]) {
      const send: Send = (request) => callWith({ LEDGER: ledger }, request);
      const { identity } = await throughEveryStep(send);
      const revoked = await send(
        jsonRequest(
          "/v1/revocations",
          { tenantSpaceId: identity.tenantSpaceId, userId: identity.userId },
          { headers: bearer() },
        ),
      );
      expect(revoked.status).toBe(200);
    }
  });

  it("strict mode decides from the ledger alone: KV is never read or written", async () => {
    const send = (request: Request) => callWith({ CONSISTENCY: "strict", TOKENS: kvUntouched }, request);
    const { token, identity } = await throughEveryStep(send);
    expect((await validate(token, identity, send)).body.retCode).toBe(6);
  });

  it("strict mode without a LEDGER binding is a configuration error naming it (retCode 11)", async () => {
    const response = await callWith(
      { CONSISTENCY: "strict", LEDGER: undefined },
      new Request("https://edge.test/healthz"),
    );
    expect(response.status).toBe(503);
    const body = await response.json<{ retCode: number; message: string }>();
    expect(body.retCode).toBe(11);
    expect(body.message).toMatch(/^service misconfigured: LEDGER is not bound: declare it in wrangler.toml/);
  });
});

describe("switching CONSISTENCY: everything from before the switch is refused in the new mode", () => {
  const switched = "token revoked or unknown: token issued before the consistency mode changed";

  it("eventual to strict: tokens and sessions from eventual mode are refused (retCode 6)", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity, {}, eventual);
    const value = cookieValue(await openSession(identity, "web-1", eventual));
    expect((await validate(token, identity, strict())).body).toEqual({ retCode: 6, message: switched });
    const refused = await verify(withCookie(value), strict());
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      retCode: 6,
      message: "token revoked or unknown: session opened before the consistency mode changed",
    });
  });

  it("strict to eventual: a spent single-use token stays refused, at once", async () => {
    const identity = newIdentity();
    const single = strict({ TOKEN_MAX_USES: "1" });
    const { token } = await issue(identity, {}, single);
    expect((await validate(token, identity, single)).body.retCode).toBe(0);
    expect((await validate(token, identity, single)).body.retCode).toBe(17);
    // Within KV's propagation grace, where a token with no KV record would pass.
    expect((await validate(token, identity, eventual)).body).toEqual({ retCode: 6, message: switched });
  });

  it.each([
    ["eventual to strict", "strict"],
    ["strict to eventual", "eventual"],
  ] as const)(
    "%s: a sign-in from before the switch gets no token (a user revoked in the old mode stays out)",
    async (_, mode) => {
      const published: PublishedKeySets = new Map();
      serveKeySets(published);
      const idp = await freshIdentityProvider(published);
      const now = Math.floor(Date.now() / 1000);
      // Switched two minutes ago (to the minute), after a sign-in ten minutes ago.
      const switchedAt = `${new Date((now - 120) * 1000).toISOString().slice(0, 16)}Z`;
      const after = (request: Request) =>
        callWith(
          {
            CONSISTENCY: mode,
            CONSISTENCY_EPOCH: switchedAt,
            IDENTITY_ISSUERS: JSON.stringify([idp.entry()]),
          },
          request,
        );
      const tokenRequest = async (idToken: string) =>
        after(
          jsonRequest(
            "/v1/tokens",
            { tenantSpaceId: TEST_TENANT },
            { headers: { Authorization: `Bearer ${idToken}` } },
          ),
        );
      const refused = await tokenRequest(await idp.sign({ iat: now - 600 }));
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({
        retCode: 18,
        message: "sign in again: identity token issued before the consistency mode changed",
      });
      // A refreshed identity token of that sign-in (new iat, old auth_time) is no better.
      expect((await tokenRequest(await idp.sign({ auth_time: now - 600 }))).status).toBe(401);
      expect((await tokenRequest(await idp.sign())).status).toBe(201);
    },
  );

  it("CONSISTENCY_EPOCH is the switch's UTC date or time, never one in the future", async () => {
    const healthz = (label: string) =>
      callWith({ CONSISTENCY_EPOCH: label }, new Request("https://edge.test/healthz"));
    expect((await healthz("2026-11-01")).status).toBe(200);
    expect((await healthz("2026-11-01T03:00Z")).status).toBe(200);
    for (const wrong of ["v2", "2026-13-01", "2999-01-01"]) {
      const response = await healthz(wrong);
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        retCode: 11,
        message: expect.stringContaining("CONSISTENCY_EPOCH must be the switch's UTC date or time"),
      });
    }
  });

  it("strict to eventual to strict: a new CONSISTENCY_EPOCH refuses the first strict period's tokens", async () => {
    const identity = newIdentity();
    const first = strict({ CONSISTENCY_EPOCH: "2026-11-01" });
    const { token } = await issue(identity, {}, first);
    const value = cookieValue(await openSession(identity, "web-1", first));
    const second = strict({ CONSISTENCY_EPOCH: "2026-12-02" });
    expect((await validate(token, identity, second)).body).toEqual({ retCode: 6, message: switched });
    expect((await verify(withCookie(value), second)).status).toBe(401);
    // Back in the first epoch's configuration, the same token still validates: the epoch is what refuses.
    expect((await validate(token, identity, first)).body.retCode).toBe(0);
  });
});
