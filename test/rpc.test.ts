import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { retCodeOf } from "../src/rpc/token-service";
import { newIdentity, validate } from "./helpers";
import { cookieValue, openSession } from "./sessions";
import { UNSERVED_TENANT } from "./test-env";

/**
 * The second front door: another Worker binds `entrypoint = "TokenService"` and calls
 * it over Workers RPC. Here the test is that Worker: `exports.TokenService` is the same
 * named entrypoint a service binding reaches.
 */
const service = exports.TokenService;

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

async function rejection(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    return retCodeOf(error);
  }
  throw new Error("the call did not reject");
}

describe("TokenService over Workers RPC", () => {
  it("issues a token that CEC's validate call accepts, and validates it over RPC too", async () => {
    const identity = newIdentity();
    const issued = await service.issueToken(identity);
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
    const { token } = await service.issueToken(identity);
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

  it("a refused request rejects with its retCode and message", async () => {
    expect(await rejection(service.issueToken({ ...newIdentity(), tenantSpaceId: UNSERVED_TENANT }))).toEqual(
      {
        retCode: 7,
        message: "tenant space not served by this deployment: tenantSpaceId",
      },
    );
    expect(await rejection(service.issueToken({ userId: "u" } as never))).toMatchObject({ retCode: 1 });
    expect(await rejection(service.revokeToken("../.."))).toMatchObject({ retCode: 1 });
  });

  it("revokes a token: validation and the sessions it opened are refused", async () => {
    const identity = newIdentity();
    const { token, tokenId } = await service.issueToken(identity);
    await service.revokeToken(tokenId);
    expect(await service.validateToken({ Token: token, ...identity })).toEqual({
      retCode: 6,
      message: "token revoked or unknown: token revoked",
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

  it("exposes its four methods only: the helpers behind them cannot be called over RPC", async () => {
    const stub = service as unknown as Record<
      string,
      ((...args: unknown[]) => Promise<unknown>) & Promise<unknown>
    >;
    for (const helper of ["run", "orReject", "failed"]) {
      const method = stub[helper];
      // The stub's lookup of the name is a promise too, rejected the same way: handled here.
      method?.catch(() => {});
      const outcome = await method?.("rpc:pwn").then(
        () => "answered",
        (error: Error) => error.message,
      );
      expect(outcome).toBe(`The RPC receiver does not implement "${helper}".`);
    }
    expect(logged.join("")).not.toContain("rpc:pwn");
  });

  it("a misconfigured service rejects with retCode 11 naming the variable", async () => {
    const { default: _, TokenService } = await import("../src/index");
    void _;
    const misconfigured = new TokenService(
      { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext,
      { ...env, TOKEN_TTL_SECONDS: "soon" } as Env,
    );
    expect(await rejection(misconfigured.issueToken(newIdentity()))).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("TOKEN_TTL_SECONDS"),
    });
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
