import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { faultyKv, type KvFault, SHORT_STORE_DEADLINE } from "./faults";
import {
  bearer,
  call,
  callWith,
  claimsFor,
  issue,
  jsonRequest,
  mintToken,
  newIdentity,
  recordKeyFor,
  validate,
  validateRequest,
} from "./helpers";

describe("KV failures fail closed", () => {
  it.each<KvFault>(["unavailable", "hang"])(
    "a read that fails (%s) answers retCode 4 with HTTP 503 and Retry-After",
    async (fault) => {
      const errors = vi.spyOn(console, "error").mockImplementation(() => {});
      const identity = newIdentity();
      const { token } = await issue(identity);
      const response = await callWith(
        { TOKENS: faultyKv(["get"], fault), ...SHORT_STORE_DEADLINE },
        jsonRequest("/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate", { Token: token, ...identity }),
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(await response.json()).toEqual({
        retCode: 4,
        message: "system error: service temporarily unavailable, retry later",
      });
      expect(errors.mock.calls.map(([line]) => line)).toContainEqual(
        expect.objectContaining({ event: "dependency_unavailable", dependency: "kv" }),
      );
      expect(JSON.stringify(errors.mock.calls)).not.toContain(token);
      errors.mockRestore();
    },
  );

  it.each<KvFault>(["unavailable", "hang"])(
    "a write that fails (%s) answers 503 and hands out no token",
    async (fault) => {
      vi.spyOn(console, "error").mockImplementation(() => {});
      const response = await callWith(
        { TOKENS: faultyKv(["put"], fault), ...SHORT_STORE_DEADLINE },
        jsonRequest("/v1/tokens", newIdentity(), { headers: bearer() }),
      );
      expect(response.status).toBe(503);
      const body = await response.text();
      expect(JSON.parse(body)).toEqual({
        retCode: 4,
        message: "system error: service temporarily unavailable, retry later",
      });
      expect(body).not.toMatch(/eyJ/); // no JWT anywhere in the answer
      vi.restoreAllMocks();
    },
  );

  it("a revocation whose write fails answers 503, so the caller knows to retry", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const { tokenId } = await issue(newIdentity());
    const response = await callWith(
      { TOKENS: faultyKv(["put"], "unavailable") },
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
    );
    expect(response.status).toBe(503);
    vi.restoreAllMocks();
  });

  it("a record of the wrong shape is a bug, not a pass: 500 retCode 4, no Retry-After, logged with its stack", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    const identity = newIdentity();
    const token = await mintToken(claimsFor(identity, { tokenId: "AAAAAAAAAAAAAAAAAAAAAA" }));
    await env.TOKENS.put(await recordKeyFor("AAAAAAAAAAAAAAAAAAAAAA"), JSON.stringify({ state: "valid" }));
    const response = await call(validateRequest(token, identity));
    expect(response.status).toBe(500);
    expect(response.headers.get("Retry-After")).toBeNull();
    expect(await response.json()).toEqual({ retCode: 4, message: "system error: internal error" });
    const logged = errors.mock.calls.map(([line]) => line as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        event: "unexpected_error",
        error: "StoredValueError: kv: read token record: stored value has the wrong shape",
        stack: expect.stringContaining("StoredValueError"),
      }),
    );
    vi.restoreAllMocks();
  });

  it("a KV failure nothing marks transient is a 500, not an invitation to retry", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const identity = newIdentity();
    const { token } = await issue(identity);
    const response = await callWith({ TOKENS: faultyKv(["get"], "bug") }, validateRequest(token, identity));
    expect(response.status).toBe(500);
    expect(response.headers.get("Retry-After")).toBeNull();
    vi.restoreAllMocks();
  });

  it("a forged token is refused without touching KV", async () => {
    const identity = newIdentity();
    const forged = await mintToken(
      claimsFor(identity),
      {},
      { kid: "test-2026-b", secret: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" },
    );
    const response = await callWith(
      { TOKENS: faultyKv(["get"], "unavailable") },
      jsonRequest("/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate", { Token: forged, ...identity }),
    );
    expect(await response.json()).toMatchObject({ retCode: 2 });
  });
});

describe("under concurrency", () => {
  it("issues and validates a batch of tokens at once, losing none", async () => {
    const identities = Array.from({ length: 40 }, () => newIdentity());
    const issued = await Promise.all(identities.map((identity) => issue(identity)));
    expect(new Set(issued.map((t) => t.tokenId)).size).toBe(40);
    const verdicts = await Promise.all(
      issued.map(({ token }, i) => validate(token, identities[i] ?? newIdentity())),
    );
    expect(verdicts.map((v) => v.body.retCode)).toEqual(Array(40).fill(0));
    const records = await Promise.all(
      issued.map(async ({ tokenId }) => env.TOKENS.get(await recordKeyFor(tokenId))),
    );
    expect(records.every((record) => record !== null)).toBe(true);
    // Each token validates only with its own identity.
    const crossed = await validate(issued[0]?.token ?? "", identities[1] ?? newIdentity());
    expect(crossed.body.retCode).toBe(5);
  });

  it("revocations and validations of different tokens do not interfere", async () => {
    const identities = Array.from({ length: 20 }, () => newIdentity());
    const issued = await Promise.all(identities.map((identity) => issue(identity)));
    await Promise.all(
      issued
        .filter((_, i) => i % 2 === 0)
        .map(({ tokenId }) =>
          call(
            new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
          ),
        ),
    );
    const verdicts = await Promise.all(
      issued.map(({ token }, i) => validate(token, identities[i] ?? newIdentity())),
    );
    expect(verdicts.map((v) => v.body.retCode)).toEqual(issued.map((_, i) => (i % 2 === 0 ? 6 : 0)));
  });
});
