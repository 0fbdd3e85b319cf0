import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  bearer,
  call,
  callWith,
  type Identity,
  issue,
  jsonRequest,
  newIdentity,
  VALIDATE_PATH,
  validate,
} from "./helpers";
import { cookieValue, endSession, openSession, SESSIONS, verify, withCookie } from "./sessions";

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
    const { token } = await issue(identity, {}, eventual);
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
        callWith({ CONSISTENCY: "strict", LEDGER: failingLedger(fault) }, request);
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

describe("switching CONSISTENCY on a live deployment", () => {
  async function tokenFor(identity: Identity, send: Send) {
    return issue(identity, {}, send);
  }

  it("eventual to strict: what eventual issued is unknown to the ledger, so refused", async () => {
    const identity = newIdentity();
    const { token } = await tokenFor(identity, eventual);
    const value = cookieValue(await openSession(identity, "web-1", eventual));
    expect((await validate(token, identity, strict())).body.retCode).toBe(6);
    expect((await verify(withCookie(value), strict())).status).toBe(401);
  });

  it("strict to eventual: what strict revoked stays revoked (ends are written to both stores)", async () => {
    const identity = newIdentity();
    const { token, tokenId } = await tokenFor(identity, strict());
    await revokeToken(tokenId, strict());
    expect((await validate(token, identity, eventual)).body.retCode).toBe(6);
  });

  it("a strict session logged out in eventual mode, past KV's grace, stays ended back in strict", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      const value = cookieValue(await openSession(newIdentity(), "web-1", strict()));
      vi.setSystemTime(Date.now() + 2 * 60_000); // KV has no record of it, and the grace is over
      expect((await endSession(value, eventual)).status).toBe(204);
      expect((await verify(withCookie(value), strict())).status).toBe(401);
    } finally {
      vi.useRealTimers();
    }
  });

  it("back and forth: what eventual ended while strict's records lived stays ended in strict", async () => {
    const identity = newIdentity();
    const { token, tokenId } = await tokenFor(identity, strict());
    const value = cookieValue(await openSession(newIdentity(), "web-1", strict()));
    await revokeToken(tokenId, eventual);
    await endSession(value, eventual);
    expect((await validate(token, identity, strict())).body.retCode).toBe(6);
    expect((await verify(withCookie(value), strict())).status).toBe(401);
  });
});
