import { env } from "cloudflare:workers";
import { base64url } from "jose";
import { describe, expect, it, vi } from "vitest";
import { importKeyRing } from "../src/crypto/signing-keys";
import { kvKey, sessionRefOf } from "../src/state/keys";
import { faultyKv, NO_KV_MEMO } from "./faults";
import { call, callWith, type Identity, issue, jsonRequest, newIdentity, randomTokenId } from "./helpers";
import {
  cookieValue,
  decodeLikeTheSeed,
  encodeLikeTheSeed,
  openSession,
  SESSIONS,
  verify,
  withCookie,
} from "./sessions";
import { TEST_SIGNING_KEY_CURRENT, UNSERVED_TENANT } from "./test-env";

const sessionKey = async (owner: { tenantId: string; channelId: string; userId: string }) =>
  kvKey.session(await sessionRefOf(owner));

/** The Worker's session-cookie keys, as the test configuration derives them. */
const sessionKeys = () =>
  importKeyRing(
    [{ kid: TEST_SIGNING_KEY_CURRENT.kid, secret: base64url.decode(TEST_SIGNING_KEY_CURRENT.secret) }],
    "session-cookie",
  );

describe("web-channel sessions", () => {
  it("opens a session with the validate checks and sets the ccmessaging-token cookie", async () => {
    const identity = newIdentity();
    const response = await openSession(identity, "web-channel-7");
    expect(response.status).toBe(200);
    const body = await response.json<{ retCode: number; message: string; session: Record<string, string> }>();
    expect(body).toMatchObject({
      retCode: 0,
      message: "validate success",
      session: { tenantId: identity.tenantSpaceId, channelId: "web-channel-7", userId: identity.userId },
    });
    const setCookie = response.headers.get("Set-Cookie") ?? "";
    expect(setCookie).toMatch(
      /^ccmessaging-token=[A-Za-z0-9%]+; Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=None$/,
    );

    const fields = decodeLikeTheSeed(cookieValue(response));
    expect(fields).toMatchObject({
      tenantId: identity.tenantSpaceId,
      channelId: "web-channel-7",
      userId: identity.userId,
    });
    expect(fields.createTime).toEqual(expect.any(Number));
    expect(fields.expireTime).toBe((fields.createTime as number) + 3600 * 1000);
    expect(Object.keys(fields).sort()).toEqual(
      [
        "channelId",
        "createTime",
        "epoch",
        "expireTime",
        "kid",
        "mac",
        "sessionId",
        "signedInAt",
        "tenantId",
        "tokenRef",
        "userId",
      ].sort(),
    );
  });

  it("sets no cookie when the token fails, with the validate endpoint's retCodes", async () => {
    const identity = newIdentity();
    const { token } = await issue(identity);
    const cases: [Record<string, unknown>, number, number][] = [
      [{ Token: token, ...identity, userId: "someone-else" }, 5, 401],
      [{ Token: "abc.def.ghi", ...identity }, 2, 401],
      [{ Token: token, ...identity, tenantSpaceId: UNSERVED_TENANT }, 7, 403],
      [{ Token: token, ...identity, channelId: undefined }, 1, 400],
      [{ Token: token, ...identity, channelId: "" }, 1, 400],
    ];
    for (const [body, retCode, status] of cases) {
      const response = await call(jsonRequest(SESSIONS, { channelId: "web-1", ...body }));
      expect(response.status).toBe(status);
      expect(response.headers.get("Set-Cookie")).toBeNull();
      expect(await response.json()).toMatchObject({ retCode });
    }
  });

  it("verifies the cookie: 204 with the identity headers", async () => {
    const identity = newIdentity();
    const value = cookieValue(await openSession(identity, "chan-9"));
    const response = await verify(withCookie(value));
    expect(response.status).toBe(204);
    expect(response.headers.get("X-CEC-Tenant-Id")).toBe(identity.tenantSpaceId);
    expect(response.headers.get("X-CEC-Channel-Id")).toBe("chan-9");
    expect(response.headers.get("X-CEC-User-Id")).toBe(identity.userId);
    expect(response.headers.get("Set-Cookie")).toBeNull(); // not in the renewal window
  });

  it("accepts the credential from the ccmessaging-token header, URL-encoded or not", async () => {
    const value = cookieValue(await openSession(newIdentity()));
    expect((await verify({ "ccmessaging-token": value })).status).toBe(204);
    expect((await verify({ "ccmessaging-token": decodeURIComponent(value) })).status).toBe(204);
  });

  it("answers 401 with a JSON error when there is no credential", async () => {
    const response = await verify({});
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({
      retCode: 1,
      message: "malformed request: no ccmessaging-token cookie or header",
    });
  });

  it("a protected route sees the session's identity", async () => {
    const identity = newIdentity();
    const value = cookieValue(await openSession(identity, "chan-2"));
    const response = await call(
      new Request("https://edge.test/v1/web-channel/me", { headers: withCookie(value) }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      tenantId: identity.tenantSpaceId,
      channelId: "chan-2",
      userId: identity.userId,
    });
  });

  it("one live session per (tenant, channel, user): a new one replaces the old", async () => {
    const identity = newIdentity();
    const first = cookieValue(await openSession(identity, "chan-1"));
    const otherChannel = cookieValue(await openSession(identity, "chan-2"));
    const second = cookieValue(await openSession(identity, "chan-1"));
    const refused = await verify(withCookie(first));
    expect(refused.status).toBe(401);
    expect(await refused.json()).toEqual({
      retCode: 6,
      message: "token revoked or unknown: session replaced by a newer one",
    });
    expect((await verify(withCookie(second))).status).toBe(204);
    expect((await verify(withCookie(otherChannel))).status).toBe(204);
  });

  it("ids that the seed's concatenation would confuse get separate sessions", async () => {
    const userId = `u-${crypto.randomUUID()}`;
    expect(await sessionKey({ tenantId: "1", channelId: "23", userId })).not.toBe(
      await sessionKey({ tenantId: "12", channelId: "3", userId }),
    );
    // Over HTTP: channel "23" + user "4" and channel "2" + user "34" (tenant fixed).
    const a = newIdentity({ userId: "4" });
    const b = newIdentity({ userId: "34" });
    const sessionA = cookieValue(await openSession(a, "23"));
    const sessionB = cookieValue(await openSession(b, "2"));
    expect((await verify(withCookie(sessionA))).status).toBe(204);
    expect((await verify(withCookie(sessionB))).status).toBe(204);
  });

  it("DELETE ends the session and clears the cookie; it stays ended", async () => {
    const value = cookieValue(await openSession(newIdentity()));
    const response = await call(
      new Request(`https://edge.test${SESSIONS}`, { method: "DELETE", headers: withCookie(value) }),
    );
    expect(response.status).toBe(204);
    expect(response.headers.get("Set-Cookie")).toMatch(
      /^ccmessaging-token=; Max-Age=0; Path=\/; HttpOnly; Secure; SameSite=None$/,
    );
    const after = await verify(withCookie(value));
    expect(after.status).toBe(401);
    expect(await after.json()).toEqual({ retCode: 6, message: "token revoked or unknown: session ended" });
  });

  it("DELETE is idempotent and harmless without a valid session", async () => {
    for (const headers of [{}, withCookie("garbage")]) {
      const response = await call(new Request(`https://edge.test${SESSIONS}`, { method: "DELETE", headers }));
      expect(response.status).toBe(204);
      expect(response.headers.get("Set-Cookie")).toMatch(/Max-Age=0/);
    }
  });

  it("a stale cookie cannot end the newer session that replaced it", async () => {
    const identity = newIdentity();
    const old = cookieValue(await openSession(identity));
    const current = cookieValue(await openSession(identity));
    await call(new Request(`https://edge.test${SESSIONS}`, { method: "DELETE", headers: withCookie(old) }));
    expect((await verify(withCookie(current))).status).toBe(204);
  });

  describe("tampering", () => {
    it.each([
      "tenantId",
      "channelId",
      "userId",
      "createTime",
      "expireTime",
      "sessionId",
      "tokenRef",
      "epoch",
      "signedInAt",
      "kid",
      "mac",
    ])("changing %s makes the value invalid, before any KV read", async (field) => {
      const value = cookieValue(await openSession(newIdentity()));
      const fields = decodeLikeTheSeed(value);
      const original = fields[field];
      const changed =
        typeof original === "number"
          ? original + 1000
          : field === "mac" || field === "sessionId" || field === "tokenRef"
            ? `${(original as string).slice(0, -2)}${(original as string).endsWith("AA") ? "BB" : "AA"}`
            : `${original}x`;
      const forged = encodeLikeTheSeed({ ...fields, [field]: changed });
      const kvUntouched = new Proxy(env.TOKENS, {
        get: (target, property) =>
          property === "get"
            ? () => {
                throw new Error("KV was read for a forged value");
              }
            : Reflect.get(target, property),
      });
      const response = await verify(withCookie(forged), (request) =>
        callWith({ TOKENS: kvUntouched }, request),
      );
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ retCode: 2 });
    });

    it("a value MAC'd with a key we do not hold is refused", async () => {
      const fields = decodeLikeTheSeed(cookieValue(await openSession(newIdentity())));
      const forged = encodeLikeTheSeed({
        ...fields,
        kid: "attacker",
        mac: base64url.encode(new Uint8Array(32)),
      });
      expect(await (await verify(withCookie(forged))).json()).toMatchObject({ retCode: 2 });
    });

    it.each([
      ["not URL-encoded", "%E0%A4%A"],
      ["not Base64", "!!!notbase64!!!"],
      ["Base64 of non-JSON", btoa("hello")],
      ["Base64 of invalid UTF-8", btoa("\xff\xfe")],
      ["JSON without the fields", encodeLikeTheSeed({ tenantId: "1", channelId: "2", userId: "3" })],
      ["a JSON array", encodeLikeTheSeed([] as unknown as Record<string, unknown>)],
      ["a huge value", "A".repeat(5000)],
      [
        "the seed's unsigned format",
        encodeLikeTheSeed({ tenantId: "1", channelId: "2", userId: "3", createTime: 1 }),
      ],
    ])("%s answers invalid (retCode 2, 401), never an error page", async (_, value) => {
      const response = await verify(withCookie(value));
      expect(response.status).toBe(401);
      expect(response.headers.get("Content-Type")).toMatch(/^application\/json/);
      expect(await response.json()).toMatchObject({ retCode: 2 });
    });

    it.each([
      ["v1", "ccmessaging-token/v1", ["signedInAt", "epoch", "tokenRef"]],
      ["v2", "ccmessaging-token/v2", ["signedInAt", "epoch"]],
    ] as const)(
      "a genuine cookie of an earlier version (%s) answers expired, so the page reopens",
      async (_, context, dropped) => {
        const fields = decodeLikeTheSeed(cookieValue(await openSession(newIdentity())));
        const older = Object.fromEntries(
          Object.entries(fields).filter(([name]) => !(dropped as readonly string[]).includes(name)),
        );
        const { kid: __, mac: ___, ...claims } = older;
        const keys = await sessionKeys();
        const macInput = JSON.stringify([context, ...Object.values(claims), TEST_SIGNING_KEY_CURRENT.kid]);
        const mac = await crypto.subtle.sign("HMAC", keys.current.key, new TextEncoder().encode(macInput));
        const genuine = encodeLikeTheSeed({
          ...claims,
          kid: TEST_SIGNING_KEY_CURRENT.kid,
          mac: base64url.encode(new Uint8Array(mac)),
        });
        const response = await verify(withCookie(genuine));
        expect(response.status).toBe(401);
        expect(await response.json()).toEqual({
          retCode: 3,
          message: "token expired: session from an earlier version",
        });
      },
    );

    it("a forgery in an earlier version's shape is a forgery like any other", async () => {
      const warnings = vi.spyOn(console, "warn").mockImplementation(() => {});
      vi.spyOn(console, "log").mockImplementation(() => {});
      const {
        tokenRef: _,
        epoch: __,
        signedInAt: ____,
        ...v1Shape
      } = decodeLikeTheSeed(cookieValue(await openSession(newIdentity())));
      const response = await verify(withCookie(encodeLikeTheSeed(v1Shape)));
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        retCode: 2,
        message: "token invalid: session value does not verify",
      });
      expect(warnings.mock.calls.map(([line]) => line)).toContainEqual(
        expect.objectContaining({ event: "security", kind: "forged_session_value" }),
      );
      vi.restoreAllMocks();
    });
  });

  describe("expiry and renewal", () => {
    /** Builds a genuine value with chosen times, using the Worker's own encoder and key. */
    async function sessionAt(identity: Identity, createTime: number, expireTime: number, record = true) {
      const { encodeSessionValue } = await import("../src/domain/sessions/session-value");
      const keys = await sessionKeys();
      const claims = {
        tenantId: identity.tenantSpaceId,
        channelId: "web-1",
        userId: identity.userId,
        createTime,
        expireTime,
        sessionId: base64url.encode(crypto.getRandomValues(new Uint8Array(16))),
        // A token that was never recorded: not revoked, so only the session's own record decides.
        tokenRef: randomTokenId().padEnd(43, "A"),
        epoch: "eventual",
        signedInAt: Math.floor(createTime / 1000),
      };
      if (record) {
        const digest = new Uint8Array(
          await crypto.subtle.digest("SHA-256", new TextEncoder().encode(claims.sessionId)),
        );
        await env.TOKENS.put(
          await sessionKey(claims),
          JSON.stringify({ state: "active", sid: base64url.encode(digest) }),
          { expirationTtl: 3600 },
        );
      }
      return encodeURIComponent(await encodeSessionValue(keys, claims));
    }

    it("an expired session is refused with retCode 3", async () => {
      const now = Date.now();
      const value = await sessionAt(newIdentity(), now - 4000_000, now - 10_000);
      const response = await verify(withCookie(value));
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ retCode: 3, message: "token expired: session expired" });
    });

    it("a session in its last quarter is renewed: same session, later expiry, new cookie", async () => {
      const now = Date.now();
      const identity = newIdentity();
      const value = await sessionAt(identity, now - 3000_000, now + 600_000);
      const response = await verify(withCookie(value));
      expect(response.status).toBe(204);
      const renewed = cookieValue(response);
      expect(response.headers.get("Set-Cookie")).toMatch(/Max-Age=(3599|3600);/);
      const before = decodeLikeTheSeed(value);
      const after = decodeLikeTheSeed(renewed);
      expect(after.sessionId).toBe(before.sessionId);
      expect(after.createTime).toBe(before.createTime);
      expect(after.expireTime as number).toBeGreaterThan(now + 3500_000);
      // Both the old cookie (until it expires) and the renewed one are valid.
      expect((await verify(withCookie(value))).status).toBe(204);
      expect((await verify(withCookie(renewed))).status).toBe(204);
    });

    it("a session younger than the propagation grace with no record yet is accepted; an older one is not", async () => {
      const now = Date.now();
      const young = await sessionAt(newIdentity(), now - 30_000, now + 3570_000, false);
      expect((await verify(withCookie(young))).status).toBe(204);
      const old = await sessionAt(newIdentity(), now - 200_000, now + 3400_000, false);
      const response = await verify(withCookie(old));
      expect(await response.json()).toEqual({
        retCode: 6,
        message: "token revoked or unknown: session unknown",
      });
    });
  });

  it("KV failures fail closed with retCode 4", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    const value = cookieValue(await openSession(newIdentity()));
    const failing = faultyKv(["get", "put"], "unavailable");
    const response = await verify(withCookie(value), (request) =>
      callWith({ TOKENS: failing, ...NO_KV_MEMO }, request),
    );
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ retCode: 4 });
    const opened = await openSession(newIdentity(), "web-1", (request) =>
      request.url.endsWith(SESSIONS) ? callWith({ TOKENS: failing, ...NO_KV_MEMO }, request) : call(request),
    );
    expect(opened.status).toBe(503);
    expect(opened.headers.get("Set-Cookie")).toBeNull();
    vi.restoreAllMocks();
  });

  it("cookie attributes follow the configuration", async () => {
    const send = (request: Request) =>
      callWith(
        {
          COOKIE_SAME_SITE: "lax",
          COOKIE_HTTP_ONLY: "false",
          COOKIE_PARTITIONED: "true",
          COOKIE_DOMAIN: "example.com",
          SESSION_TTL_SECONDS: "900",
        },
        request,
      );
    const response = await openSession(newIdentity(), "web-1", send);
    expect(response.headers.get("Set-Cookie")).toMatch(
      /^ccmessaging-token=[^;]+; Max-Age=900; Domain=example.com; Path=\/; Secure; SameSite=Lax; Partitioned$/,
    );
  });

  it("stores only a hash of the session id, under a hashed key", async () => {
    const identity = newIdentity();
    const value = cookieValue(await openSession(identity, "web-5"));
    const { sessionId } = decodeLikeTheSeed(value) as { sessionId: string };
    const key = await sessionKey({
      tenantId: identity.tenantSpaceId,
      channelId: "web-5",
      userId: identity.userId,
    });
    const stored = (await env.TOKENS.get(key)) ?? "";
    expect(JSON.parse(stored)).toMatchObject({ state: "active" });
    expect(stored).not.toContain(sessionId);
    expect(stored).not.toContain(decodeURIComponent(value));
    expect(key).not.toContain(identity.userId);
  });
});
