import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DEVELOPMENT_DEFAULTS } from "../src/config/development";
import { kvKey, userRefOf } from "../src/state/keys";
import { userShard } from "../src/state/ledger/ledger-client";
import { faultyKv, NO_KV_MEMO, SHORT_STORE_DEADLINE } from "./faults";
import {
  bearer,
  call,
  callWith,
  DEVELOPMENT_ENV,
  type Identity,
  issue,
  jsonRequest,
  newIdentity,
  VALIDATE_PATH,
  validate,
} from "./helpers";
import { freshIdentityProvider, type PublishedKeySets, serveKeySets } from "./identity-provider";
import { cookieValue, endSession, me, openSession, SESSIONS, verify, withCookie } from "./sessions";
import { TEST_TENANT, TEST_TENANT_OTHER, UNSERVED_TENANT } from "./test-env";

/**
 * "Revoked means refused": an ended session, a revoked token and a revoked user stay
 * dead, whatever renews, races or arrives late. Time is a clock the test controls
 * (only `Date` is faked: timers, and so the KV deadline, stay real).
 */

const MINUTE = 60_000;
let start: number;
beforeEach(() => {
  vi.useFakeTimers({ toFake: ["Date"] });
  start = Date.now();
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});
const at = (offsetMs: number) => vi.setSystemTime(start + offsetMs);

/**
 * The same semantics in both consistency modes (one suite, run once per mode), so the
 * modes cannot drift apart. `send` reaches the Worker in the mode under test.
 */
type Send = (request: Request) => Promise<Response>;
const MODES = { eventual: {}, strict: { CONSISTENCY: "strict" } } as const;
let modeVariables: Record<string, string> = {};
let send: Send = call;
/** The Worker in the mode under test, with some variables more. */
const sendWith =
  (variables: Record<string, string | undefined>): Send =>
  (request) =>
    callWith({ ...modeVariables, ...variables }, request);

const revokeToken = (tokenId: string) =>
  send(new Request(`https://edge.test/v1/tokens/${tokenId}`, { method: "DELETE", headers: bearer() }));
const revokeUser = (body: unknown, headers: Record<string, string> = bearer(), via: Send = send) =>
  via(jsonRequest("/v1/revocations", body, { headers }));

/** Every `ccmessaging-token` a response hands out (not the Max-Age=0 that clears it). */
const handedOut = (response: Response) =>
  /^ccmessaging-token=[^;]+;/.test(response.headers.get("Set-Cookie") ?? "") ? [cookieValue(response)] : [];

async function expectRefused(value: string, retCode = 6) {
  const response = await verify(withCookie(value), send);
  expect(response.status).toBe(401);
  expect(await response.json()).toMatchObject({ retCode });
  expect(handedOut(response)).toEqual([]);
}

/** The real local KV; `get`s of keys with `prefix` go through `around`. Fault injection, not a mock. */
function kvWithGet(prefix: string, around: (read: () => Promise<unknown>) => Promise<unknown>): KVNamespace {
  return new Proxy(env.TOKENS, {
    get(target, property) {
      if (property === "get") {
        return (key: string, options: unknown) => {
          const read = () => target.get(key, options as KVNamespaceGetOptions<"json">);
          return key.startsWith(prefix) ? around(read) : read();
        };
      }
      const value = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

describe.each(Object.keys(MODES) as (keyof typeof MODES)[])("%s mode", (mode) => {
  beforeEach(() => {
    modeVariables = MODES[mode];
    send = mode === "eventual" ? call : sendWith({});
  });

  describe("ending a session is final", () => {
    // Sized to prove the property, not to load the machine: 3 rounds of 24 requests, the
    // logout in the middle of each (with renewal writing the session's record, this failed
    // in most rounds). The deterministic interleaving is the next test. The timeout is far
    // above what the work needs on a loaded 2-core machine (about a second).
    it("the logout race: no renewal during or after it brings the session back", {
      timeout: 30_000,
    }, async () => {
      const concurrent = 24;
      const logout = concurrent / 2;
      for (let round = 0; round < 3; round++) {
        at(round * 2 * 60 * MINUTE);
        const original = cookieValue(await openSession(newIdentity(), "web-1", send));
        at(round * 2 * 60 * MINUTE + 50 * MINUTE); // the last quarter: every request renews
        const requests = Array.from({ length: concurrent }, (_, i) =>
          i === logout ? endSession(original, send) : me(original, send),
        );
        const responses = await Promise.all(requests);
        expect(responses[logout]?.status).toBe(204);
        const cookies = responses.filter((_, i) => i !== logout).flatMap(handedOut);
        for (const value of new Set([original, ...cookies])) await expectRefused(value);
      }
    });

    // KV's own hazard (a read served before the end); the ledger has no such window.
    it.runIf(mode === "eventual")(
      "a renewal that read the session before it ended cannot write it back",
      async () => {
        const original = cookieValue(await openSession(newIdentity(), "web-1", send));
        at(50 * MINUTE);
        // The slow request reads "active", then waits until the logout has completed.
        let readDone!: () => void;
        let release!: () => void;
        const read = new Promise<void>((resolve) => {
          readDone = resolve;
        });
        const gate = new Promise<void>((resolve) => {
          release = resolve;
        });
        const delayed = kvWithGet("session:", async (get) => {
          const value = await get();
          readDone();
          await gate;
          return value;
        });
        const slow = me(original, (request) => callWith({ TOKENS: delayed, ...NO_KV_MEMO }, request));
        await read;
        expect((await endSession(original, send)).status).toBe(204);
        release();
        const late = await slow;
        for (const value of [original, ...handedOut(late)]) await expectRefused(value);
      },
    );

    it("a session ended in one place stays ended when a new session for the same user opens", async () => {
      const identity = newIdentity();
      const first = cookieValue(await openSession(identity, "web-1", send));
      expect((await endSession(first, send)).status).toBe(204);
      const second = cookieValue(await openSession(identity, "web-1", send));
      expect((await verify(withCookie(second), send)).status).toBe(204);
      await expectRefused(first);
    });
  });

  describe("revoking a token reaches the sessions it opened", () => {
    async function sessionFromToken(identity: Identity) {
      const { token, tokenId } = await issue(identity, {}, send);
      const opened = await send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" }));
      return { tokenId, value: cookieValue(opened) };
    }

    it("the session is refused (401, retCode 6) and not renewed", async () => {
      const { tokenId, value } = await sessionFromToken(newIdentity());
      expect((await verify(withCookie(value), send)).status).toBe(204);
      expect((await revokeToken(tokenId)).status).toBe(204);
      at(50 * MINUTE); // in the renewal window: a renewal would hand out a fresh cookie
      const response = await me(value, send);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        retCode: 6,
        message: "token revoked or unknown: token revoked",
      });
      expect(handedOut(response)).toEqual([]);
    });

    it("also once the token itself has expired and its record is gone", async () => {
      const { tokenId, value } = await sessionFromToken(newIdentity());
      at(20 * MINUTE); // the token (5 minutes) is long expired; the session lives on
      expect((await verify(withCookie(value), send)).status).toBe(204);
      expect((await revokeToken(tokenId)).status).toBe(204);
      await expectRefused(value);
    });

    it("another token's session is unaffected", async () => {
      const identity = newIdentity();
      const revoked = await sessionFromToken(identity);
      const kept = await sessionFromToken(newIdentity());
      await revokeToken(revoked.tokenId);
      expect((await verify(withCookie(kept.value), send)).status).toBe(204);
    });
  });

  describe("sessions have an absolute lifetime (SESSION_MAX_LIFETIME_SECONDS)", () => {
    const withMaxLifetime = (seconds: string) => sendWith({ SESSION_MAX_LIFETIME_SECONDS: seconds });

    it("renewals stop at the cap; past it the session answers retCode 3", async () => {
      const send = withMaxLifetime("7200"); // 2 h; SESSION_TTL_SECONDS is 1 h
      const first = cookieValue(await openSession(newIdentity(), "web-1", send));

      at(50 * MINUTE);
      const second = await me(first, send);
      const renewed = cookieValue(second);
      expect(Date.parse((await second.json<{ expiresAt: string }>()).expiresAt) - start).toBeLessThanOrEqual(
        110 * MINUTE + 1000,
      );

      at(105 * MINUTE); // 15 minutes left: a renewal may only reach the 2-hour cap
      const capped = cookieValue(await me(renewed, send));
      const times = await (await me(capped, send)).json<{ createdAt: string; expiresAt: string }>();
      expect(Date.parse(times.expiresAt)).toBe(Date.parse(times.createdAt) + 7200_000);

      at(115 * MINUTE); // in the window, but at the cap: nothing to renew
      expect(handedOut(await me(capped, send))).toEqual([]);

      at(121 * MINUTE);
      const past = await me(capped, send);
      expect(past.status).toBe(401);
      expect(await past.json()).toMatchObject({ retCode: 3 });
    });

    it("lowering the cap applies to sessions already open", async () => {
      const value = cookieValue(await openSession(newIdentity(), "web-1", withMaxLifetime("7200")));
      at(50 * MINUTE);
      const renewed = cookieValue(await me(value, withMaxLifetime("7200")));
      at(65 * MINUTE);
      const response = await me(renewed, withMaxLifetime("3600"));
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({
        retCode: 3,
        message: "token expired: session past its maximum lifetime",
      });
    });

    it("a cap below SESSION_TTL_SECONDS caps the first expiry too", async () => {
      const response = await openSession(newIdentity(), "web-1", withMaxLifetime("600"));
      expect(response.headers.get("Set-Cookie")).toMatch(/; Max-Age=600;/);
      const { session } = await response.json<{ session: { expiresAt: string } }>();
      expect(Date.parse(session.expiresAt) - start).toBe(600_000);
    });

    it("a session opened 30 days ago is refused, however it was renewed", async () => {
      const value = cookieValue(await openSession(newIdentity(), "web-1", send));
      let current = value;
      for (let minutes = 50; minutes < 30 * 24 * 60; minutes += 50) {
        at(minutes * MINUTE);
        const response = await me(current, send);
        if (response.status !== 200) {
          expect(await response.json()).toMatchObject({ retCode: 3 });
          expect(minutes).toBeLessThanOrEqual(12 * 60 + 50); // the default cap: 12 hours
          return;
        }
        current = handedOut(response)[0] ?? current;
      }
      throw new Error("the session was still accepted after 30 days");
    });
  });

  describe("user revocation: POST /v1/revocations", () => {
    it("refuses every token and session of the user issued at or before revokedBefore", async () => {
      const identity = newIdentity();
      const { token } = await issue(identity, {}, send);
      const session = cookieValue(await openSession(identity, "web-1", send));
      const otherUser = newIdentity();
      const otherUserToken = (await issue(otherUser, {}, send)).token;
      const sameIdElsewhere = newIdentity({ userId: identity.userId, tenantSpaceId: TEST_TENANT_OTHER });
      const sameIdElsewhereToken = (await issue(sameIdElsewhere, {}, send)).token;

      at(1000);
      const response = await revokeUser({ tenantSpaceId: identity.tenantSpaceId, userId: identity.userId });
      expect(response.status).toBe(200);
      expect(response.headers.get("Cache-Control")).toBe("no-store");
      const { revokedBefore } = await response.json<{ revokedBefore: string }>();
      expect(revokedBefore).toBe(new Date(Math.floor((start + 1000) / 1000) * 1000).toISOString());

      expect(await validate(token, identity, send)).toEqual({
        status: 200,
        body: { retCode: 6, message: "token revoked or unknown: user revoked" },
      });
      const refused = await verify(withCookie(session), send);
      expect(refused.status).toBe(401);
      expect(await refused.json()).toEqual({ retCode: 6, message: "token revoked or unknown: user revoked" });

      expect((await validate(otherUserToken, otherUser, send)).body.retCode).toBe(0);
      expect((await validate(sameIdElsewhereToken, sameIdElsewhere, send)).body.retCode).toBe(0);

      at(2000); // one second later: a new token, and a session opened with it, work normally
      const fresh = await issue(identity, {}, send);
      expect((await validate(fresh.token, identity, send)).body.retCode).toBe(0);
      const newSession = cookieValue(await openSession(identity, "web-1", send));
      expect((await verify(withCookie(newSession), send)).status).toBe(204);
    });

    it("is idempotent, and a later call moves revokedBefore forward", async () => {
      const identity = newIdentity();
      const body = { tenantSpaceId: identity.tenantSpaceId, userId: identity.userId };
      const first = await (await revokeUser(body)).json<{ revokedBefore: string }>();
      at(5000);
      const { token } = await issue(identity, {}, send);
      expect((await validate(token, identity, send)).body.retCode).toBe(0);
      at(10_000);
      const second = await (await revokeUser(body)).json<{ revokedBefore: string }>();
      expect(Date.parse(second.revokedBefore)).toBeGreaterThan(Date.parse(first.revokedBefore));
      expect((await validate(token, identity, send)).body.retCode).toBe(6);
    });

    it("answers the documented errors", async () => {
      const identity = newIdentity();
      const body = { tenantSpaceId: identity.tenantSpaceId, userId: identity.userId };
      const cases: [Promise<Response>, number, number][] = [
        [revokeUser({ ...body, tenantSpaceId: UNSERVED_TENANT }), 403, 7],
        [revokeUser(body, {}), 401, 9],
        [revokeUser(body, { Authorization: "Bearer not-a-key-at-all-0000" }), 401, 9],
        [revokeUser({ tenantSpaceId: identity.tenantSpaceId }), 400, 1],
        [revokeUser({ ...body, userId: "" }), 400, 1],
        [revokeUser("{not json"), 400, 1],
      ];
      for (const [pending, status, retCode] of cases) {
        const response = await pending;
        expect(response.status).toBe(status);
        expect(await response.json()).toMatchObject({ retCode });
      }
      // The user's tokens are untouched by the refused calls.
      const { token } = await issue(identity, {}, send);
      at(1000);
      expect((await validate(token, identity, send)).body.retCode).toBe(0);
    });

    it("is rate-limited per API key, on the budget for ends (never issuance's)", async () => {
      const identity = newIdentity();
      const response = await revokeUser(
        { tenantSpaceId: identity.tenantSpaceId, userId: identity.userId },
        bearer(),
        (request) =>
          callWith({ ...modeVariables, END_LIMITER: { limit: async () => ({ success: false }) } }, request),
      );
      expect(response.status).toBe(429);
      expect(await response.json()).toMatchObject({ retCode: 8 });
    });

    /** The development deployment, and an identity token from its built-in identity provider. */
    async function developmentSignIn(user: "alice" | "bob") {
      vi.spyOn(console, "log").mockImplementation(() => {});
      const development = sendWith(DEVELOPMENT_ENV);
      const minted = await development(new Request(`https://edge.test/dev/idp/token?user=${user}`));
      const { idToken } = await minted.json<{ idToken: string }>();
      return { development, idToken };
    }

    it("takes an API key only: an identity token from the front end cannot call it", async () => {
      const { development, idToken } = await developmentSignIn("alice");
      const response = await revokeUser(
        { tenantSpaceId: "202007159031", userId: "demo-alice" },
        { Authorization: `Bearer ${idToken}` },
        development,
      );
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ retCode: 9 });
    });

    it("covers tokens issued through enterprise sign-in", async () => {
      const { development, idToken } = await developmentSignIn("bob");
      const [tenantSpaceId] = DEVELOPMENT_DEFAULTS.TENANT_SPACE_IDS.split(",");
      const issued = await development(
        jsonRequest("/v1/tokens", { tenantSpaceId }, { headers: { Authorization: `Bearer ${idToken}` } }),
      );
      expect(issued.status).toBe(201);
      const { token } = await issued.json<{ token: string }>();
      const claims = decodeJwt(token);
      const identity = {
        userId: String(claims.sub),
        userName: String(claims.name),
        tenantSpaceId: String(tenantSpaceId),
      };
      expect((await validate(token, identity, development)).body.retCode).toBe(0);
      const revoked = await revokeUser(
        { tenantSpaceId, userId: identity.userId },
        { Authorization: `Bearer ${DEVELOPMENT_DEFAULTS.API_KEYS}` },
        development,
      );
      expect(revoked.status).toBe(200);
      expect((await validate(token, identity, development)).body.retCode).toBe(6);
    });

    describe("a revoked user cannot sign straight back in with the same identity token", () => {
      const published: PublishedKeySets = new Map();
      beforeEach(() => {
        published.clear();
        serveKeySets(published);
      });
      const tokenRequest = (idToken: string) =>
        jsonRequest(
          "/v1/tokens",
          { tenantSpaceId: TEST_TENANT },
          { headers: { Authorization: `Bearer ${idToken}` } },
        );

      /** Tokens recorded for `user` in the mode under test: KV records, or ledger rows of the user's shard. */
      async function storedTokens(user: string): Promise<number> {
        if (mode === "eventual") return (await env.TOKENS.list({ prefix: "token:" })).keys.length;
        const shard = await userShard({ tenant: TEST_TENANT, user });
        const stub = env.LEDGER.get(env.LEDGER.idFromName(`shard-${shard}`));
        return runInDurableObject(
          stub,
          (_, state) => state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM tokens").one().n,
        );
      }

      it("refuses an identity token issued at or before revokedBefore; a later sign-in works", async () => {
        const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
        vi.spyOn(console, "log").mockImplementation(() => {});
        const idp = await freshIdentityProvider(published);
        const via = sendWith({ IDENTITY_ISSUERS: JSON.stringify([idp.entry()]) });
        const user = `user-${crypto.randomUUID()}`;
        const idToken = await idp.sign({ sub: user });
        expect((await via(tokenRequest(idToken))).status).toBe(201);

        at(1000);
        const revoked = await revokeUser({ tenantSpaceId: TEST_TENANT, userId: user }, bearer(), via);
        expect(revoked.status).toBe(200);
        at(2000);
        const stored = await storedTokens(user);
        const again = await via(tokenRequest(idToken));
        expect(again.status).toBe(401);
        expect(again.headers.get("Cache-Control")).toBe("no-store");
        expect(await again.json()).toEqual({
          retCode: 18,
          message: "sign in again: identity token issued before the user was revoked",
        });
        expect(await storedTokens(user)).toBe(stored);
        const events = warn.mock.calls.map(([line]) => line as Record<string, unknown>);
        expect(events).toContainEqual(
          expect.objectContaining({ event: "security", kind: "revoked_identity_presented" }),
        );

        // Signed in again after the revocation: works as before.
        const fresh = await via(tokenRequest(await idp.sign({ sub: user })));
        expect(fresh.status).toBe(201);
        const { token } = await fresh.json<{ token: string }>();
        const identity = { userId: user, userName: "Alice Example", tenantSpaceId: TEST_TENANT };
        expect((await validate(token, identity, via)).body.retCode).toBe(0);
      });

      /** A user revocation made at another location at `revokedBefore` (seconds), reaching this one now. */
      async function revocationArrives(user: string, revokedBefore: number) {
        const key = kvKey.revokedUser(await userRefOf({ tenantSpaceId: TEST_TENANT, userId: user }));
        await env.TOKENS.put(key, JSON.stringify({ revokedBefore }), { expirationTtl: 3_600 });
      }

      it.runIf(mode === "eventual")(
        "a token issued where the revocation had not arrived yet, and its sessions, are refused once it has",
        async () => {
          vi.spyOn(console, "warn").mockImplementation(() => {});
          vi.spyOn(console, "log").mockImplementation(() => {});
          const idp = await freshIdentityProvider(published);
          const via = sendWith({ IDENTITY_ISSUERS: JSON.stringify([idp.entry()]) });
          const user = `user-${crypto.randomUUID()}`;
          const signedIn = Math.floor(Date.now() / 1000);
          const idToken = await idp.sign({ sub: user });
          // Revoked elsewhere one second after the sign-in; here, a second later, unknown yet.
          at(2000);
          const issued = await via(tokenRequest(idToken));
          expect(issued.status).toBe(201);
          const { token } = await issued.json<{ token: string }>();
          expect(decodeJwt(token).auth_time).toBe(signedIn); // the sign-in it was issued on
          const identity = { userId: user, userName: "Alice Example", tenantSpaceId: TEST_TENANT };
          const opened = await via(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" }));
          expect(opened.status).toBe(200);
          await revocationArrives(user, signedIn + 1);
          const everywhere = sendWith({ IDENTITY_ISSUERS: JSON.stringify([idp.entry()]), ...NO_KV_MEMO });
          expect((await validate(token, identity, everywhere)).body).toEqual({
            retCode: 6,
            message: "token revoked or unknown: user revoked",
          });
          expect((await verify(withCookie(cookieValue(opened)), everywhere)).status).toBe(401);
        },
      );

      it.runIf(mode === "eventual")(
        "a session opened after a revocation, where it had not arrived yet, is refused once it has",
        async () => {
          vi.spyOn(console, "warn").mockImplementation(() => {});
          vi.spyOn(console, "log").mockImplementation(() => {});
          const identity = newIdentity();
          const issuedAt = Math.floor(Date.now() / 1000);
          const { token } = await issue(identity, {}, send);
          expect(decodeJwt(token).auth_time).toBeUndefined(); // an API key's: compared by its issue
          at(2000);
          const opened = await send(jsonRequest(SESSIONS, { Token: token, ...identity, channelId: "web-1" }));
          expect(opened.status).toBe(200);
          await revocationArrives(identity.userId, issuedAt + 1);
          const everywhere = sendWith(NO_KV_MEMO);
          const refused = await verify(withCookie(cookieValue(opened)), everywhere);
          expect(refused.status).toBe(401);
          expect(await refused.json()).toMatchObject({ retCode: 6 });
        },
      );

      it("refuses a fresh identity token whose auth_time is at or before revokedBefore", async () => {
        vi.spyOn(console, "warn").mockImplementation(() => {});
        vi.spyOn(console, "log").mockImplementation(() => {});
        const idp = await freshIdentityProvider(published);
        const via = sendWith({ IDENTITY_ISSUERS: JSON.stringify([idp.entry()]) });
        const user = `user-${crypto.randomUUID()}`;
        const signedIn = Math.floor(Date.now() / 1000);
        at(1000);
        await revokeUser({ tenantSpaceId: TEST_TENANT, userId: user }, bearer(), via);
        at(2000);
        // A refreshed identity token (new iat) from the same sign-in session (old auth_time).
        const refreshed = await via(tokenRequest(await idp.sign({ sub: user, auth_time: signedIn })));
        expect(refreshed.status).toBe(401);
        expect(await refreshed.json()).toMatchObject({ retCode: 18 });
        const reauthenticated = await via(
          tokenRequest(await idp.sign({ sub: user, auth_time: Math.floor(Date.now() / 1000) })),
        );
        expect(reauthenticated.status).toBe(201);
      });
    });

    it.runIf(mode === "eventual").each(["unavailable", "hang"] as const)(
      "a failing read of the revocation (%s) fails closed",
      async (fault) => {
        vi.spyOn(console, "error").mockImplementation(() => {});
        const identity = newIdentity();
        const { token } = await issue(identity, {}, send);
        const session = cookieValue(await openSession(identity, "web-1", send));
        const failing = faultyKv(["get"], fault, "revoked-user:");
        const kvFailing = (request: Request) =>
          callWith({ TOKENS: failing, ...SHORT_STORE_DEADLINE, ...NO_KV_MEMO }, request);
        const validated = await kvFailing(jsonRequest(VALIDATE_PATH, { Token: token, ...identity }));
        expect(validated.status).toBe(503);
        expect(await validated.json()).toMatchObject({ retCode: 4 });
        const verified = await verify(withCookie(session), kvFailing);
        expect(verified.status).toBe(503);
        expect(await verified.json()).toMatchObject({ retCode: 4 });
      },
    );
  });
});
