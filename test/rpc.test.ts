import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TokenService } from "../src/index";
import { faultyKv, kvReturning, SHORT_STORE_DEADLINE } from "./faults";
import { claimsFor, mintToken, newIdentity, validate } from "./helpers";
import { cookieValue, openSession } from "./sessions";
import { UNSERVED_TENANT } from "./test-env";

/**
 * The second front door: another Worker binds `entrypoint = "TokenService"` and calls
 * it over Workers RPC. Here the test is that Worker: `exports.TokenService` is the same
 * named entrypoint a service binding reaches. `serviceWith` builds the entrypoint on
 * other bindings (faulty KV, strict mode, spent budgets), as the runtime would.
 */
const service = exports.TokenService;

function serviceWith(overrides: Partial<Record<keyof Env, unknown>>): TokenService {
  const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} };
  return new TokenService(ctx as unknown as ExecutionContext, { ...env, ...overrides } as Env);
}

const deny = { limit: async () => ({ success: false }) };

let logged: string[];
beforeEach(() => {
  logged = [];
  for (const level of ["log", "warn", "error"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(JSON.stringify(args));
    });
  }
});
afterEach(() => vi.restoreAllMocks());

/** The issued token of an answer that must be a success. */
function issuedOf<T extends { retCode: number }>(answer: T): Extract<T, { retCode: 0 }> {
  expect(answer).toMatchObject({ retCode: 0 });
  return answer as Extract<T, { retCode: 0 }>;
}

describe("TokenService over Workers RPC", () => {
  it("issues a token that CEC's validate call accepts, and validates it over RPC too", async () => {
    const identity = newIdentity();
    const issued = issuedOf(await service.issueToken(identity));
    expect(issued).toMatchObject({ tokenId: expect.any(String), expiresIn: 300 });
    expect((await validate(issued.token, identity)).body).toEqual({
      retCode: 0,
      message: "validate success",
    });
    expect(await service.validateToken({ Token: issued.token, ...identity })).toEqual({
      retCode: 0,
      message: "validate success",
    });
  });

  it("answers the same verdicts as the HTTP route", async () => {
    const identity = newIdentity();
    const { token } = issuedOf(await service.issueToken(identity));
    expect(await service.validateToken({ Token: token, ...identity, userId: "someone-else" })).toEqual({
      retCode: 5,
      message: "identity does not match the token: userId not the one the token was issued for",
    });
    expect(await service.validateToken({ Token: "a.b.c", ...identity })).toMatchObject({ retCode: 2 });
    expect(await service.validateToken({ Token: token, ...identity, userName: "" } as never)).toMatchObject({
      retCode: 1,
      message: "malformed request: userName must not be empty",
    });
  });

  it("a refusal is an answer with its retCode and message, never an exception", async () => {
    expect(await service.issueToken({ ...newIdentity(), tenantSpaceId: UNSERVED_TENANT })).toEqual({
      retCode: 7,
      message: "tenant space not served by this deployment: tenantSpaceId",
    });
    expect(await service.issueToken({ userId: "u" } as never)).toMatchObject({ retCode: 1 });
    expect(await service.revokeToken("../..")).toEqual({
      retCode: 1,
      message: "malformed request: tokenId is not a token id",
    });
    expect(await service.revokeUser({ tenantSpaceId: UNSERVED_TENANT, userId: "u" })).toMatchObject({
      retCode: 7,
    });
  });

  it("revokes a token: validation and the sessions it opened are refused", async () => {
    const identity = newIdentity();
    const { token, tokenId } = issuedOf(await service.issueToken(identity));
    expect(await service.revokeToken(tokenId)).toEqual({ retCode: 0, message: "validate success" });
    expect(await service.validateToken({ Token: token, ...identity })).toEqual({
      retCode: 6,
      message: "token revoked or unknown: token revoked",
    });
  });

  it("revokes a user: their tokens are refused, and revokedBefore is answered as over HTTP", async () => {
    const identity = newIdentity();
    const { token } = issuedOf(await service.issueToken(identity));
    const revoked = issuedOf(
      await service.revokeUser({ tenantSpaceId: identity.tenantSpaceId, userId: identity.userId }),
    );
    expect(revoked.revokedBefore).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(await service.validateToken({ Token: token, ...identity })).toEqual({
      retCode: 6,
      message: "token revoked or unknown: user revoked",
    });
  });

  it("verifies a ccmessaging-token value and says whose session it is", async () => {
    const identity = newIdentity();
    const value = decodeURIComponent(cookieValue(await openSession(identity, "web-9")));
    expect(await service.verifySession(value)).toEqual({
      retCode: 0,
      message: "validate success",
      tenantId: identity.tenantSpaceId,
      channelId: "web-9",
      userId: identity.userId,
    });
    expect(await service.verifySession("forged")).toMatchObject({ retCode: 2 });
    expect(await service.verifySession("")).toMatchObject({ retCode: 1 });
  });

  it("exposes its methods only: the helpers behind them cannot be called over RPC", async () => {
    expect(Object.getOwnPropertyNames(TokenService.prototype).sort()).toEqual(
      ["constructor", "issueToken", "revokeToken", "revokeUser", "validateToken", "verifySession"].sort(),
    );
    const stub = service as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const outcome = await stub.run?.("rpc:pwn").then(
      () => "answered",
      (error: Error) => error.message,
    );
    expect(outcome).toBe('The RPC receiver does not implement "run".');
    expect(logged.join("")).not.toContain("rpc:pwn");
  });

  it("logs each call like a request, marked as coming over a service binding", async () => {
    const identity = newIdentity();
    await service.issueToken(identity);
    const line = logged
      .map((entry) => JSON.parse(entry)[0])
      .find((entry) => entry?.route === "rpc:issueToken");
    expect(line).toMatchObject({
      event: "request",
      method: "RPC",
      caller: "service-binding",
      status: 200,
      retCode: 0,
      outcome: "ok",
      tenant: identity.tenantSpaceId,
    });
    expect(JSON.stringify(logged)).not.toContain(identity.userId);
  });
});

describe("TokenService fails as the HTTP routes do", () => {
  it("a misconfigured service answers retCode 11 naming the variable", async () => {
    expect(await serviceWith({ TOKEN_TTL_SECONDS: "soon" }).issueToken(newIdentity())).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("TOKEN_TTL_SECONDS"),
    });
  });

  it("KV unavailable or hanging: retCode 4, service temporarily unavailable", async () => {
    const identity = newIdentity();
    const { token } = issuedOf(await service.issueToken(identity));
    for (const fault of ["unavailable", "hang"] as const) {
      const failing = serviceWith({ TOKENS: faultyKv(["get", "put"], fault), ...SHORT_STORE_DEADLINE });
      const unavailable = {
        retCode: 4,
        message: "system error: service temporarily unavailable, retry later",
      };
      expect(await failing.validateToken({ Token: token, ...identity })).toEqual(unavailable);
      expect(await failing.issueToken(newIdentity())).toEqual(unavailable);
    }
  });

  it("a stored value of the wrong shape is an internal error, logged with its stack", async () => {
    const identity = newIdentity();
    const { token } = issuedOf(await service.issueToken(identity));
    const broken = serviceWith({ TOKENS: kvReturning({ state: "valid" }) });
    expect(await broken.validateToken({ Token: token, ...identity })).toEqual({
      retCode: 4,
      message: "system error: internal error",
    });
    const errors = logged
      .map((entry) => JSON.parse(entry)[0])
      .filter((line) => line?.event === "unexpected_error");
    expect(errors).toEqual([expect.objectContaining({ stack: expect.stringContaining("StoredValueError") })]);
  });

  it("issuance is limited per service binding, and a spent issuance budget never blocks ends", async () => {
    const identity = newIdentity();
    const { token, tokenId } = issuedOf(await service.issueToken(identity));
    const spent = serviceWith({ ISSUE_LIMITER: deny });
    expect(await spent.issueToken(newIdentity())).toEqual({
      retCode: 8,
      message: "rate limited, retry later",
    });
    expect(await spent.revokeToken(tokenId)).toMatchObject({ retCode: 0 });
    expect(
      await spent.revokeUser({ tenantSpaceId: identity.tenantSpaceId, userId: identity.userId }),
    ).toMatchObject({ retCode: 0 });
    expect(await spent.validateToken({ Token: token, ...identity })).toMatchObject({ retCode: 6 });
    // Ends have their own budget.
    expect(await serviceWith({ END_LIMITER: deny }).revokeToken(tokenId)).toMatchObject({ retCode: 8 });
  });

  it("validation is limited per token tried", async () => {
    const identity = newIdentity();
    const { token } = issuedOf(await service.issueToken(identity));
    expect(await serviceWith({ TOKEN_LIMITER: deny }).validateToken({ Token: token, ...identity })).toEqual({
      retCode: 8,
      message: "rate limited, retry later",
    });
  });
});

describe("TokenService in strict mode", () => {
  const strict = (variables: Record<string, string> = {}) =>
    serviceWith({ CONSISTENCY: "strict", ...variables });

  it("single-use tokens: the second validation answers retCode 17", async () => {
    const single = strict({ TOKEN_MAX_USES: "1" });
    const identity = newIdentity();
    const { token } = issuedOf(await single.issueToken(identity));
    expect(await single.validateToken({ Token: token, ...identity })).toMatchObject({ retCode: 0 });
    expect(await single.validateToken({ Token: token, ...identity })).toEqual({
      retCode: 17,
      message: "token already used",
    });
  });

  it("a revocation takes effect for the very next call; a token from eventual mode is refused", async () => {
    const send = strict();
    const identity = newIdentity();
    const { token, tokenId } = issuedOf(await send.issueToken(identity));
    expect(await send.revokeToken(tokenId)).toMatchObject({ retCode: 0 });
    expect(await send.validateToken({ Token: token, ...identity })).toMatchObject({ retCode: 6 });
    const eventualToken = await mintToken(claimsFor(identity));
    expect(await send.validateToken({ Token: eventualToken, ...identity })).toEqual({
      retCode: 6,
      message: "token revoked or unknown: token issued before the consistency mode changed",
    });
  });

  it("strict mode without a LEDGER binding answers retCode 11 naming it", async () => {
    expect(await strict().issueToken(newIdentity())).toMatchObject({ retCode: 0 });
    expect(
      await serviceWith({ CONSISTENCY: "strict", LEDGER: undefined }).issueToken(newIdentity()),
    ).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("LEDGER is not bound"),
    });
  });
});
