import { describe, expect, it, vi } from "vitest";
import { clientAddressKey } from "../src/http/client-address";
import { bearer, callWith, issue, jsonRequest, newIdentity, VALIDATE_PATH, validateRequest } from "./helpers";

/** A limiter binding that records the keys it is asked about and answers as told. */
function recordingLimiter(answer: "allow" | "deny" | "fail") {
  const keys: string[] = [];
  const limiter = {
    keys,
    limit: async ({ key }: { key: string }) => {
      keys.push(key);
      if (answer === "fail") throw new Error("limiter unavailable");
      return { success: answer === "allow" };
    },
  };
  return limiter;
}

describe("rate limits", () => {
  it("the per-address ceiling answers 429 retCode 8 on issuance and validation, not on /healthz", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const deny = recordingLimiter("deny");
    const send = (request: Request) => callWith({ ADDRESS_LIMITER: deny }, request);
    const headers = { "CF-Connecting-IP": "203.0.113.7" };
    for (const request of [
      jsonRequest("/v1/tokens", newIdentity(), { headers: { ...bearer(), ...headers } }),
      jsonRequest(VALIDATE_PATH, { Token: "x", ...newIdentity() }, { headers }),
    ]) {
      const response = await send(request);
      expect(response.status).toBe(429);
      expect(await response.json()).toEqual({ retCode: 8, message: "rate limited, retry later" });
    }
    expect(deny.keys).toEqual(["address:203.0.113.7", "address:203.0.113.7"]);
    expect((await send(new Request("https://edge.test/healthz"))).status).toBe(200);
    vi.restoreAllMocks();
  });

  it("issuance is limited per API key, before the body is read", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    const deny = recordingLimiter("deny");
    const response = await callWith(
      { ISSUE_LIMITER: deny },
      jsonRequest("/v1/tokens", "not json", { headers: bearer() }),
    );
    expect(response.status).toBe(429);
    expect(deny.keys).toEqual(["api-key:1"]);
    vi.restoreAllMocks();
  });

  it("ends are never starved by issuance: with the issuance budget spent, revocations go through", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const identity = newIdentity();
    const { token, tokenId } = await issue(identity);
    const issuanceSpent = (request: Request) =>
      callWith({ ISSUE_LIMITER: recordingLimiter("deny") }, request);
    expect(
      (await issuanceSpent(jsonRequest("/v1/tokens", newIdentity(), { headers: bearer() }))).status,
    ).toBe(429);
    const revoked = await issuanceSpent(
      new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }),
    );
    expect(revoked.status).toBe(204);
    expect(await (await issuanceSpent(validateRequest(token, identity))).json()).toMatchObject({
      retCode: 6,
    });
    const userRevoked = await issuanceSpent(
      jsonRequest(
        "/v1/revocations",
        { tenantSpaceId: identity.tenantSpaceId, userId: identity.userId },
        { headers: bearer() },
      ),
    );
    expect(userRevoked.status).toBe(200);
    vi.restoreAllMocks();
  });

  it("validation is limited per token tried (a hash, never the token), not per caller", async () => {
    const allow = recordingLimiter("allow");
    const identity = newIdentity();
    const { token } = await issue(identity);
    await callWith({ TOKEN_LIMITER: allow }, validateRequest(token, identity));
    expect(allow.keys).toHaveLength(1);
    expect(allow.keys[0]).toMatch(/^token:[A-Za-z0-9_-]{43}$/);
    expect(allow.keys[0]).not.toContain(token.split(".")[2]);
  });

  it("a limiter that fails lets the request through (it protects, it does not authenticate)", async () => {
    const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
    const identity = newIdentity();
    const { token } = await issue(identity);
    const response = await callWith(
      { ADDRESS_LIMITER: recordingLimiter("fail"), TOKEN_LIMITER: recordingLimiter("fail") },
      validateRequest(token, identity),
    );
    expect(await response.json()).toEqual({ retCode: 0, message: "validate success" });
    expect(JSON.stringify(warnings.mock.calls)).toContain("rate_limiter_unavailable");
    vi.restoreAllMocks();
  });
});

describe("clientAddressKey", () => {
  const key = (address?: string) =>
    clientAddressKey(
      new Request("https://edge.test/", { headers: address ? { "CF-Connecting-IP": address } : {} }),
    );

  it.each([
    [undefined, "unknown"],
    ["198.51.100.4", "198.51.100.4"],
    ["2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"],
    ["2001:db8:1:2::9", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8::/64"],
    ["::1", "::/64"],
    ["not an address", "unknown"],
  ])("%s counts as %s", (address, expected) => {
    expect(key(address)).toBe(expected);
  });
});
