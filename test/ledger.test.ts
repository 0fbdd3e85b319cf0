import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { sha256Base64url } from "../src/crypto/encoding";
import { migrate, SCHEMA_VERSION } from "../src/state/ledger/ledger-schema";
import {
  LEDGER_CLEANUP_INTERVAL_SECONDS,
  MAX_SESSIONS_PER_USER,
  TokenLedger,
} from "../src/state/ledger/token-ledger";

/** The real TokenLedger class, one fresh object per test: plain stub calls through env.LEDGER. */
const freshLedger = () => env.LEDGER.get(env.LEDGER.idFromName(`test-${crypto.randomUUID()}`));

const nowSeconds = () => Math.floor(Date.now() / 1000);
const HOUR = 3_600;

let tokens = 0;
/** A token of a fresh user, with the keep-until a live token has. */
function newToken(overrides: Partial<{ tenant: string; user: string; issuedAt: number }> = {}) {
  tokens += 1;
  const now = nowSeconds();
  return {
    ref: `ref-${tokens}-${crypto.randomUUID()}`,
    tenant: "202007159031",
    user: `user-${tokens}`,
    issuedAt: now,
    ...overrides,
  };
}
const live = (token: ReturnType<typeof newToken>) => ({ ...token, keepUntil: nowSeconds() + HOUR });

/** A fresh ledger holding one recorded, live token. */
async function ledgerWithToken() {
  const ledger = freshLedger();
  const token = newToken();
  await ledger.recordIssued(live(token));
  return { ledger, token };
}

/** Opens a new session of the token's owner: what a successful session open writes. */
async function openedSession(ledger: DurableObjectStub<TokenLedger>, token: ReturnType<typeof newToken>) {
  const session = await sessionOf(token);
  expect(await ledger.openSession(session, token, { maxUses: null, now: nowSeconds() })).toBe("ok");
  return session;
}

const unlimited = () => ({ maxUses: null, now: nowSeconds() });
const upTo = (maxUses: number) => ({ maxUses, now: nowSeconds() });
const revocation = () => ({ now: nowSeconds(), keepUntil: nowSeconds() + HOUR });

async function sessionOf(token: ReturnType<typeof newToken>, channel = "channel-1") {
  const sessionId = crypto.randomUUID();
  return {
    key: await sha256Base64url(JSON.stringify([token.tenant, channel, token.user])),
    sid: await sha256Base64url(sessionId),
    tenant: token.tenant,
    user: token.user,
    keepUntil: nowSeconds() + HOUR,
  };
}
const presented = (
  session: Awaited<ReturnType<typeof sessionOf>>,
  token: ReturnType<typeof newToken>,
  createTime = Date.now(),
) => ({
  key: session.key,
  sid: session.sid,
  tokenRef: token.ref,
  tenant: session.tenant,
  user: session.user,
  createTime,
});

const count = (ledger: DurableObjectStub<TokenLedger>, table: string) =>
  runInDurableObject(
    ledger,
    (_, state) => state.storage.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM ${table}`).one().n,
  );

describe("TokenLedger: tokens", () => {
  it("a recorded token is ok, again and again when uses are unlimited", async () => {
    const { ledger, token } = await ledgerWithToken();
    for (let use = 0; use < 5; use += 1) expect(await ledger.useToken(token, unlimited())).toBe("ok");
  });

  it("a token never recorded is unknown at once: no propagation grace", async () => {
    expect(await freshLedger().useToken(newToken(), unlimited())).toBe("unknown");
  });

  it("a token recorded for another owner is unknown", async () => {
    const { ledger, token } = await ledgerWithToken();
    expect(await ledger.useToken({ ...token, user: "someone-else" }, unlimited())).toBe("unknown");
    expect(await ledger.useToken({ ...token, tenant: "202107150001" }, unlimited())).toBe("unknown");
  });

  it("a row past its keep-until is unknown even before the cleanup removes it", async () => {
    const ledger = freshLedger();
    const token = newToken();
    await ledger.recordIssued({ ...token, keepUntil: nowSeconds() - 1 });
    expect(await ledger.useToken(token, unlimited())).toBe("unknown");
  });

  it("a revoked token is revoked, for every later use", async () => {
    const { ledger, token } = await ledgerWithToken();
    expect(await ledger.useToken(token, unlimited())).toBe("ok");
    await ledger.revokeToken(token.ref, revocation());
    expect(await ledger.useToken(token, unlimited())).toBe("revoked");
    expect(await ledger.useToken(token, unlimited())).toBe("revoked");
  });

  it("revoking works for a ref never recorded, and a later record does not lift it", async () => {
    const ledger = freshLedger();
    const token = newToken();
    await ledger.revokeToken(token.ref, revocation());
    await ledger.revokeToken(token.ref, revocation()); // idempotent
    await ledger.recordIssued(live(token));
    expect(await ledger.useToken(token, unlimited())).toBe("revoked");
  });

  it.each([1, 2, 3, 7])(
    "TOKEN_MAX_USES=%i: that many uses are ok, then every use is 'used'",
    async (maxUses) => {
      const { ledger, token } = await ledgerWithToken();
      const verdicts: string[] = [];
      for (let use = 0; use < maxUses + 3; use += 1)
        verdicts.push(await ledger.useToken(token, upTo(maxUses)));
      expect(verdicts).toEqual([...Array(maxUses).fill("ok"), "used", "used", "used"]);
    },
  );

  it("a refused use is not counted: a revoked token stays revoked, a used one used", async () => {
    const { ledger, token } = await ledgerWithToken();
    expect(await ledger.useToken(token, upTo(2))).toBe("ok");
    expect(await ledger.useToken(token, upTo(2))).toBe("ok");
    expect(await ledger.useToken(token, upTo(2))).toBe("used");
    // Raising the limit later counts the uses made so far.
    expect(await ledger.useToken(token, upTo(3))).toBe("ok");
    expect(await ledger.useToken(token, upTo(3))).toBe("used");
  });

  it("50 concurrent uses of a single-use token: exactly one ok (repeated)", async () => {
    for (let round = 0; round < 5; round += 1) {
      const { ledger, token } = await ledgerWithToken();
      const verdicts = await Promise.all(Array.from({ length: 50 }, () => ledger.useToken(token, upTo(1))));
      expect(verdicts.filter((verdict) => verdict === "ok")).toHaveLength(1);
      expect(verdicts.filter((verdict) => verdict === "used")).toHaveLength(49);
    }
  });
});

describe("TokenLedger: user revocation", () => {
  it("refuses tokens issued at or before revokedBefore; a token of the next second is fine", async () => {
    const ledger = freshLedger();
    const now = nowSeconds();
    const earlier = newToken({ issuedAt: now - 10 });
    const sameSecond = { ...newToken({ issuedAt: now }), user: earlier.user };
    const nextSecond = { ...newToken({ issuedAt: now + 1 }), user: earlier.user };
    for (const token of [earlier, sameSecond, nextSecond]) await ledger.recordIssued(live(token));

    const revokedBefore = await ledger.revokeUser(
      { tenant: earlier.tenant, user: earlier.user },
      { now, keepUntil: now + HOUR },
    );
    expect(revokedBefore).toBe(now);
    expect(await ledger.useToken(earlier, unlimited())).toBe("userRevoked");
    expect(await ledger.useToken(sameSecond, unlimited())).toBe("userRevoked");
    expect(await ledger.useToken(nextSecond, unlimited())).toBe("ok");
  });

  it("leaves another user of the tenant, and the same user id in another tenant, alone", async () => {
    const ledger = freshLedger();
    const revoked = newToken();
    const neighbour = newToken({ tenant: revoked.tenant });
    const elsewhere = { ...newToken({ tenant: "202107150001" }), user: revoked.user };
    for (const token of [revoked, neighbour, elsewhere]) await ledger.recordIssued(live(token));
    await ledger.revokeUser({ tenant: revoked.tenant, user: revoked.user }, revocation());
    expect(await ledger.useToken(revoked, unlimited())).toBe("userRevoked");
    expect(await ledger.useToken(neighbour, unlimited())).toBe("ok");
    expect(await ledger.useToken(elsewhere, unlimited())).toBe("ok");
  });

  it("a later call moves revokedBefore forward, never back", async () => {
    const ledger = freshLedger();
    const user = { tenant: "202007159031", user: `user-${crypto.randomUUID()}` };
    const now = nowSeconds();
    expect(await ledger.revokeUser(user, { now, keepUntil: now + HOUR })).toBe(now);
    expect(await ledger.revokeUser(user, { now: now + 5, keepUntil: now + HOUR })).toBe(now + 5);
    expect(await ledger.revokeUser(user, { now: now + 2, keepUntil: now + HOUR })).toBe(now + 5);
  });

  it("refuses even a token with no record", async () => {
    const ledger = freshLedger();
    const token = newToken();
    await ledger.revokeUser({ tenant: token.tenant, user: token.user }, revocation());
    expect(await ledger.useToken(token, unlimited())).toBe("userRevoked");
  });
});

describe("TokenLedger: revocations by a scoped caller", () => {
  const scoped = (scope: string[]) => ({ ...revocation(), scope });

  it("a token recorded for another tenant is out of scope, and stays usable", async () => {
    const { ledger, token } = await ledgerWithToken();
    expect(await ledger.revokeToken(token.ref, scoped(["another-tenant"]))).toBe("outOfScope");
    expect(await ledger.useToken(token, unlimited())).toBe("ok");
    expect(await ledger.revokeToken(token.ref, scoped([token.tenant]))).toBe("revoked");
    expect(await ledger.useToken(token, unlimited())).toBe("revoked");
  });

  it("a ref never recorded is revoked for the scope's tenants only; an unscoped revocation widens it", async () => {
    const ledger = freshLedger();
    const token = newToken();
    expect(await ledger.revokeToken(token.ref, scoped(["another-tenant"]))).toBe("revoked");
    // The token, recorded later for its own tenant, is not refused by another tenant's revocation.
    await ledger.recordIssued(live(token));
    expect(await ledger.useToken(token, unlimited())).toBe("ok");
    await ledger.revokeToken(token.ref, revocation());
    expect(await ledger.useToken(token, unlimited())).toBe("revoked");
  });
});

describe("TokenLedger: sessions", () => {
  it(`a user keeps at most ${MAX_SESSIONS_PER_USER} session rows: opening one more drops the oldest`, async () => {
    const { ledger, token } = await ledgerWithToken();
    const opened = [];
    for (let channel = 0; channel < MAX_SESSIONS_PER_USER + 4; channel += 1) {
      const session = {
        ...(await sessionOf(token, `channel-${channel}`)),
        keepUntil: nowSeconds() + HOUR + channel,
      };
      expect(await ledger.openSession(session, token, unlimited())).toBe("ok");
      opened.push(session);
    }
    expect(await count(ledger, "sessions")).toBe(MAX_SESSIONS_PER_USER);
    for (const [index, session] of opened.entries()) {
      expect(await ledger.checkSession(presented(session, token))).toBe(index < 4 ? "unknown" : "ok");
    }
    // Another user of the same shard keeps theirs.
    const other = newToken();
    await ledger.recordIssued(live(other));
    const theirs = await openedSession(ledger, other);
    expect(await ledger.checkSession(presented(theirs, other))).toBe("ok");
  });

  it("opening counts a use and makes the session live; checking it is ok", async () => {
    const { ledger, token } = await ledgerWithToken();
    const session = await sessionOf(token);
    expect(await ledger.openSession(session, token, upTo(2))).toBe("ok");
    expect(await ledger.checkSession(presented(session, token))).toBe("ok");
    expect(await ledger.useToken(token, upTo(2))).toBe("ok");
    expect(await ledger.useToken(token, upTo(2))).toBe("used");
  });

  it("a token that cannot be used opens no session", async () => {
    const ledger = freshLedger();
    const token = newToken();
    const session = await sessionOf(token);
    expect(await ledger.openSession(session, token, unlimited())).toBe("unknown");
    await ledger.recordIssued(live(token));
    expect(await ledger.openSession(session, token, upTo(1))).toBe("ok");
    const second = await sessionOf(token);
    expect(await ledger.openSession(second, token, upTo(1))).toBe("used");
    // The refused open wrote nothing: the first session is still the live one.
    expect(await ledger.checkSession(presented(session, token))).toBe("ok");
    expect(await ledger.checkSession(presented(second, token))).toBe("replaced");
  });

  it("a session never opened is unknown", async () => {
    const token = newToken();
    expect(await freshLedger().checkSession(presented(await sessionOf(token), token))).toBe("unknown");
  });

  it("a newer session of the same key replaces the older one", async () => {
    const { ledger, token } = await ledgerWithToken();
    const older = await openedSession(ledger, token);
    const newer = await openedSession(ledger, token);
    expect(await ledger.checkSession(presented(older, token))).toBe("replaced");
    expect(await ledger.checkSession(presented(newer, token))).toBe("ok");
  });

  it("ending is final and ends the session's token; another token's newer session is left alone", async () => {
    const { ledger, token } = await ledgerWithToken();
    const session = await openedSession(ledger, token);
    const end = (ended: typeof session, opener: ReturnType<typeof newToken>) =>
      ledger.endSession({
        key: ended.key,
        sid: ended.sid,
        now: Date.now(),
        tokenRef: opener.ref,
        keepUntil: nowSeconds() + HOUR,
      });
    await end(session, token);
    expect(await ledger.checkSession(presented(session, token))).toBe("ended");
    expect(await ledger.useToken(token, unlimited())).toBe("revoked");
    await end(session, token); // idempotent
    expect(await ledger.checkSession(presented(session, token))).toBe("ended");

    // The same user signs in again: another token opens a newer session of the same key.
    const other = newToken({ tenant: token.tenant, user: token.user });
    await ledger.recordIssued(live(other));
    const newer = await openedSession(ledger, other);
    expect(newer.key).toBe(session.key);
    // Ending with the old cookie again leaves the newer session alone.
    await end(session, token);
    expect(await ledger.checkSession(presented(newer, other))).toBe("ok");
  });

  it("two concurrent opens for one key leave exactly one live session (repeated)", async () => {
    for (let round = 0; round < 10; round += 1) {
      const { ledger, token } = await ledgerWithToken();
      const [first, second] = [await sessionOf(token), await sessionOf(token)];
      const opened = await Promise.all([
        ledger.openSession(first, token, unlimited()),
        ledger.openSession(second, token, unlimited()),
      ]);
      expect(opened).toEqual(["ok", "ok"]);
      const checks = [
        await ledger.checkSession(presented(first, token)),
        await ledger.checkSession(presented(second, token)),
      ];
      expect(checks.filter((check) => check === "ok")).toHaveLength(1);
      expect(checks.filter((check) => check === "replaced")).toHaveLength(1);
    }
  });

  it("with a single-use token, two concurrent opens give one session and one 'used'", async () => {
    const { ledger, token } = await ledgerWithToken();
    const [first, second] = [await sessionOf(token), await sessionOf(token)];
    const opened = await Promise.all([
      ledger.openSession(first, token, upTo(1)),
      ledger.openSession(second, token, upTo(1)),
    ]);
    expect(opened.toSorted()).toEqual(["ok", "used"]);
    const winner = opened[0] === "ok" ? first : second;
    expect(await ledger.checkSession(presented(winner, token))).toBe("ok");
  });

  it("revoking the token that opened a session refuses the session", async () => {
    const { ledger, token } = await ledgerWithToken();
    const session = await openedSession(ledger, token);
    await ledger.revokeToken(token.ref, revocation());
    expect(await ledger.checkSession(presented(session, token))).toBe("tokenRevoked");
  });

  it("revoking the user refuses sessions created at or before revokedBefore, not later ones", async () => {
    const { ledger, token } = await ledgerWithToken();
    const session = await openedSession(ledger, token);
    const now = nowSeconds();
    await ledger.revokeUser({ tenant: token.tenant, user: token.user }, { now, keepUntil: now + HOUR });
    expect(await ledger.checkSession(presented(session, token, now * 1000 + 999))).toBe("userRevoked");
    expect(await ledger.checkSession(presented(session, token, (now + 1) * 1000))).toBe("ok");
  });
});

describe("TokenLedger: storage stays bounded", () => {
  it("sets a cleanup alarm when it writes its first row", async () => {
    const ledger = freshLedger();
    expect(await runInDurableObject(ledger, (_, state) => state.storage.getAlarm())).toBeNull();
    await ledger.recordIssued(live(newToken()));
    const alarm = await runInDurableObject(ledger, (_, state) => state.storage.getAlarm());
    expect(alarm).toBeGreaterThanOrEqual((nowSeconds() + LEDGER_CLEANUP_INTERVAL_SECONDS - 5) * 1000);
  });

  it("the alarm removes expired rows of every table, keeps live ones, and runs again while rows remain", async () => {
    const ledger = freshLedger();
    const past = nowSeconds() - 1;
    // Expired: 200 token rows, 20 user revocations, 20 sessions (opened with live tokens, kept).
    for (let index = 0; index < 200; index += 1) {
      await ledger.recordIssued({ ...newToken(), keepUntil: past });
    }
    for (let index = 0; index < 20; index += 1) {
      const token = newToken();
      await ledger.revokeUser({ tenant: token.tenant, user: token.user }, { now: past, keepUntil: past });
      const opener = newToken();
      await ledger.recordIssued(live(opener));
      await ledger.openSession({ ...(await sessionOf(opener)), keepUntil: past }, opener, unlimited());
    }
    // Live: one token with its session, one user revocation.
    const kept = newToken();
    await ledger.recordIssued(live(kept));
    const keptSession = await openedSession(ledger, kept);
    await ledger.revokeUser({ tenant: "202007159031", user: "kept-revoked" }, revocation());
    expect([
      await count(ledger, "tokens"),
      await count(ledger, "sessions"),
      await count(ledger, "users"),
    ]).toEqual([221, 21, 21]);

    expect(await runDurableObjectAlarm(ledger)).toBe(true);
    expect([
      await count(ledger, "tokens"),
      await count(ledger, "sessions"),
      await count(ledger, "users"),
    ]).toEqual([21, 1, 1]);
    expect(await ledger.checkSession(presented(keptSession, kept))).toBe("ok");
    // Rows remain: the next run is set.
    expect(await runInDurableObject(ledger, (_, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("once every row is gone, no alarm is left behind; the next write sets one again", async () => {
    const ledger = freshLedger();
    await ledger.recordIssued({ ...newToken(), keepUntil: nowSeconds() - 1 });
    expect(await runDurableObjectAlarm(ledger)).toBe(true);
    expect(await count(ledger, "tokens")).toBe(0);
    expect(await runInDurableObject(ledger, (_, state) => state.storage.getAlarm())).toBeNull();
    await ledger.revokeToken("some-ref", revocation());
    expect(await runInDurableObject(ledger, (_, state) => state.storage.getAlarm())).not.toBeNull();
  });

  it("many rounds of writes and cleanups keep the database from growing", async () => {
    const ledger = freshLedger();
    const sizes: number[] = [];
    for (let round = 0; round < 5; round += 1) {
      for (let index = 0; index < 200; index += 1) {
        await ledger.recordIssued({ ...newToken(), keepUntil: nowSeconds() - 1 });
      }
      await runDurableObjectAlarm(ledger);
      sizes.push(await runInDurableObject(ledger, (_, state) => state.storage.sql.databaseSize));
    }
    expect(await count(ledger, "tokens")).toBe(0);
    // SQLite reuses the freed pages: the size after the last round is that after the first.
    expect(sizes.at(-1)).toBeLessThanOrEqual(sizes[0] ?? 0);
  });
});

describe("only the ledger's own RPC methods are reachable through a stub", () => {
  /**
   * Workers RPC exposes every method on a Durable Object class's prototype, TypeScript's
   * `private` ones included. The ledger's helpers (issue 19 found `use`, `tokenRow`,
   * `revokedBefore`, `earliestKeepUntil`, `setAlarmAt`, `scheduleCleanup` there) must not be.
   */
  it("the prototype holds the RPC methods and nothing else", () => {
    expect(Object.getOwnPropertyNames(TokenLedger.prototype).sort()).toEqual(
      [
        "constructor",
        "alarm",
        "checkSession",
        "endSession",
        "openSession",
        "recordIssued",
        "revokeToken",
        "revokeUser",
        "useToken",
      ].sort(),
    );
  });

  it("a stub cannot call a helper, and nothing is counted outside a transaction", async () => {
    const { ledger, token } = await ledgerWithToken();
    const stub = ledger as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
    const outcome = await stub.use?.(token, unlimited()).then(
      () => "answered",
      (error: Error) => error.message,
    );
    expect(outcome).toBe('The RPC receiver does not implement "use".');
    expect(await ledger.useToken(token, upTo(1))).toBe("ok");
  });
});

describe("the schema evolves: objects written by an earlier version catch up", () => {
  /** The tables exactly as the ledger made them before its schema had a version. */
  const UNVERSIONED_SCHEMA = `
    CREATE TABLE tokens (ref TEXT PRIMARY KEY, tenant TEXT, user TEXT, issued_at INTEGER,
      uses INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER, keep_until INTEGER NOT NULL) WITHOUT ROWID;
    CREATE TABLE users (tenant TEXT NOT NULL, user TEXT NOT NULL, revoked_before INTEGER NOT NULL,
      keep_until INTEGER NOT NULL, PRIMARY KEY (tenant, user)) WITHOUT ROWID;
    CREATE TABLE sessions (key TEXT PRIMARY KEY, sid TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('active', 'ended')), tenant TEXT NOT NULL, user TEXT NOT NULL,
      ended_at INTEGER, keep_until INTEGER NOT NULL) WITHOUT ROWID;`;

  const schemaVersion = (state: DurableObjectState) =>
    state.storage.sql.exec<{ version: number }>("SELECT version FROM ledger_schema").one().version;

  it("a new object starts at the current version", async () => {
    const ledger = freshLedger();
    expect(await runInDurableObject(ledger, (_, state) => schemaVersion(state))).toBe(SCHEMA_VERSION);
  });

  it("an object with the unversioned tables and their rows is migrated, every row intact", async () => {
    const ledger = freshLedger();
    const token = newToken();
    const keepUntil = nowSeconds() + HOUR;
    await runInDurableObject(ledger, (_, state) => {
      const { sql } = state.storage;
      // What the previous version left: its own tables and rows, and no version anywhere.
      for (const table of [
        ...sql.exec<{ name: string }>(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_%' ESCAPE '\\'",
        ),
      ]) {
        sql.exec(`DROP TABLE ${table.name}`);
      }
      sql.exec(UNVERSIONED_SCHEMA);
      sql.exec(
        "INSERT INTO tokens (ref, tenant, user, issued_at, uses, revoked_at, keep_until) VALUES (?, ?, ?, ?, 1, NULL, ?)",
        token.ref,
        token.tenant,
        token.user,
        token.issuedAt,
        keepUntil,
      );
      expect(migrate(state.storage)).toBe(SCHEMA_VERSION);
      expect(schemaVersion(state)).toBe(SCHEMA_VERSION);
      // Idempotent: a second run changes nothing.
      expect(migrate(state.storage)).toBe(SCHEMA_VERSION);
    });
    // The migrated object serves its old rows: one use was counted before, one more now.
    expect(await ledger.useToken(token, upTo(2))).toBe("ok");
    expect(await ledger.useToken(token, upTo(2))).toBe("used");
  });

  it("an object at a newer version than this code knows (a rollback) is left as it is", async () => {
    const ledger = freshLedger();
    await runInDurableObject(ledger, (_, state) => {
      state.storage.sql.exec("UPDATE ledger_schema SET version = ?", SCHEMA_VERSION + 5);
      expect(migrate(state.storage)).toBe(SCHEMA_VERSION + 5);
      expect(schemaVersion(state)).toBe(SCHEMA_VERSION + 5);
    });
  });
});
