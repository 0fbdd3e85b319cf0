import { DurableObject } from "cloudflare:workers";
import { seconds } from "../../core/time";
import { sameSecret } from "../../crypto/compare";
import { migrate } from "./ledger-schema";
import type {
  EndedSession,
  IssuedToken,
  LedgerToken,
  LedgerUser,
  OpenedSession,
  PresentedSession,
  RevokeOptions,
  SessionStanding,
  TokenStanding,
  UseOptions,
} from "./ledger-types";

/**
 * The strict mode's source of truth (CONSISTENCY=strict, docs/consistency.md): issued
 * tokens and their uses, token and user revocations, web-channel sessions and their ends,
 * for the users of one shard (src/state/ledger/ledger-client.ts). A Durable Object runs one
 * event at a time, and every method below reads and writes SQLite synchronously with no
 * `await` in between, inside one transaction: each call is atomic, and the very next call,
 * from anywhere, sees its effect. Tables: docs/storage-schema.md, "Ledger".
 *
 * Times: tokens' and users' in whole seconds since the epoch (as `iat`), sessions'
 * `createTime` and `endedAt` in milliseconds (as the cookie's); every `keepUntil` in
 * seconds. Methods take plain objects and return plain values (RPC).
 */

/**
 * How often the cleanup alarm runs at most. Each run is a billed request and a row written
 * (the next alarm), so hourly keeps cleanup a rounding error on the bill while no row
 * outlives its `keep_until` by more than an hour.
 */
export const LEDGER_CLEANUP_INTERVAL_SECONDS = 3_600;

/**
 * The session rows one user keeps (across channels): opening one more drops the oldest,
 * whose cookie then answers "session unknown". A visitor chats on a handful of channels;
 * the cap keeps one signed-in user (or a stolen token) from filling a shard that serves
 * everyone on it (docs/storage-schema.md, "sessions").
 */
export const MAX_SESSIONS_PER_USER = 16;

/** The tables the cleanup alarm sweeps. No index on keep_until: see alarm(). */
const TABLES = ["tokens", "users", "sessions"] as const;

type TokenRow = {
  tenant: string | null;
  user: string | null;
  uses: number;
  revoked_at: number | null;
  revoked_for: string | null;
  keep_until: number;
};

export class TokenLedger extends DurableObject<Env> {
  readonly #sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.#sql = ctx.storage.sql;
    // Synchronous: no request can arrive before the schema is current.
    migrate(ctx.storage);
  }

  /**
   * Records a token at issuance, unless it is for a sign-in the user's revocation covers
   * ("userRevoked", nothing written). A replay never resets its uses or lifts a revocation.
   */
  async recordIssued(token: IssuedToken): Promise<"ok" | "userRevoked"> {
    const recorded = this.ctx.storage.transactionSync(() => {
      const revokedBefore = userRevokedBefore(this.#sql, token);
      if (
        token.signedInAt !== undefined &&
        revokedBefore !== undefined &&
        token.signedInAt <= revokedBefore
      ) {
        return "userRevoked" as const;
      }
      this.#sql.exec(
        `INSERT INTO tokens (ref, tenant, user, issued_at, uses, revoked_at, keep_until)
       VALUES (?, ?, ?, ?, 0, NULL, ?)
       ON CONFLICT (ref) DO UPDATE SET tenant = excluded.tenant, user = excluded.user,
         issued_at = excluded.issued_at, keep_until = max(keep_until, excluded.keep_until)`,
        token.ref,
        token.tenant,
        token.user,
        token.issuedAt,
        token.keepUntil,
      );
      return "ok" as const;
    });
    if (recorded === "ok") await scheduleCleanup(this.ctx.storage, token.keepUntil);
    return recorded;
  }

  /**
   * One use of a token (a validation): the same order of checks as eventual mode
   * (src/domain/tokens/validate-token.ts), minus its propagation grace. A token the ledger has
   * no record of is unknown, at once: here the record is written before the token exists.
   */
  useToken(token: LedgerToken, options: UseOptions): TokenStanding {
    return this.ctx.storage.transactionSync(() => countUse(this.#sql, token, options));
  }

  /**
   * Revokes a token by its ref, recorded or not (its row may have gone with it). For a
   * scoped caller: a token recorded for another tenant is "outOfScope", nothing written;
   * one never recorded (or gone) is revoked for the scope's tenants only.
   */
  async revokeToken(ref: string, options: RevokeOptions): Promise<"revoked" | "outOfScope"> {
    const { now, keepUntil, scope } = options;
    const revoked = this.ctx.storage.transactionSync(() => {
      const row = findToken(this.#sql, ref);
      if (scope === undefined || (row?.tenant != null && scope.includes(row.tenant))) {
        revoke(this.#sql, ref, now, keepUntil);
        return "revoked" as const;
      }
      if (row?.tenant != null) return "outOfScope" as const;
      if (row !== undefined && row.revoked_at !== null && row.revoked_for === null) return "revoked" as const;
      const covered: string[] = row?.revoked_for ? JSON.parse(row.revoked_for) : [];
      revoke(this.#sql, ref, now, keepUntil, [...new Set([...covered, ...scope])].sort());
      return "revoked" as const;
    });
    if (revoked === "revoked") await scheduleCleanup(this.ctx.storage, keepUntil);
    return revoked;
  }

  /**
   * Revokes everything the user holds now: tokens issued, and sessions opened, at or
   * before `now` (the second itself included, as in eventual mode). A later call moves
   * the time forward, never back. Returns `revokedBefore`.
   */
  async revokeUser(user: LedgerUser, options: RevokeOptions): Promise<number> {
    const revokedBefore = this.ctx.storage.transactionSync(() => {
      this.#sql.exec(
        `INSERT INTO users (tenant, user, revoked_before, keep_until) VALUES (?, ?, ?, ?)
         ON CONFLICT (tenant, user) DO UPDATE SET
           revoked_before = max(revoked_before, excluded.revoked_before),
           keep_until = max(keep_until, excluded.keep_until)`,
        user.tenant,
        user.user,
        options.now,
        options.keepUntil,
      );
      return userRevokedBefore(this.#sql, user) ?? options.now;
    });
    await scheduleCleanup(this.ctx.storage, options.keepUntil);
    return revokedBefore;
  }

  /**
   * Opens a web-channel session with a token: on "ok", in one transaction, the use is
   * counted and the session (key, sid) becomes the key's only live one, replacing any
   * earlier session of the key. Two opens racing for one key leave exactly one live.
   */
  async openSession(session: OpenedSession, token: LedgerToken, options: UseOptions): Promise<TokenStanding> {
    const verdict = this.ctx.storage.transactionSync(() => {
      const use = countUse(this.#sql, token, options);
      if (use !== "ok") return use;
      this.#sql.exec(
        `INSERT INTO sessions (key, sid, state, tenant, user, ended_at, keep_until)
         VALUES (?, ?, 'active', ?, ?, NULL, ?)
         ON CONFLICT (key) DO UPDATE SET sid = excluded.sid, state = 'active', tenant = excluded.tenant,
           user = excluded.user, ended_at = NULL, keep_until = excluded.keep_until`,
        session.key,
        session.sid,
        session.tenant,
        session.user,
        session.keepUntil,
      );
      // The newest rows by keep_until (the hard end, from createTime) stay; the open's own is the newest.
      this.#sql.exec(
        `DELETE FROM sessions WHERE key IN (SELECT key FROM sessions WHERE tenant = ? AND user = ?
           ORDER BY keep_until DESC LIMIT -1 OFFSET ?)`,
        session.tenant,
        session.user,
        MAX_SESSIONS_PER_USER,
      );
      return use;
    });
    if (verdict === "ok") await scheduleCleanup(this.ctx.storage, session.keepUntil);
    return verdict;
  }

  /**
   * Whether a presented session still stands, in the order of eventual mode
   * (src/domain/sessions/sessions.ts): the user's revocation, the token's, then the session's row.
   * A missing row is final here (no propagation grace): the row is written at open.
   */
  checkSession(session: PresentedSession): SessionStanding {
    return this.ctx.storage.transactionSync(() => {
      const revokedBefore = userRevokedBefore(this.#sql, session);
      if (revokedBefore !== undefined && seconds(session.createTime) <= revokedBefore) return "userRevoked";
      const token = findToken(this.#sql, session.tokenRef);
      const row = this.#sql
        .exec<{ sid: string; state: string }>("SELECT sid, state FROM sessions WHERE key = ?", session.key)
        .toArray()[0];
      const same = row !== undefined && sameSecret(session.sid, row.sid);
      // A logout revokes the token and marks its own session ended: that one says so.
      if (revokedFor(token, session.tenant)) return same && row?.state === "ended" ? "ended" : "tokenRevoked";
      if (row === undefined) return "unknown";
      if (!same) return "replaced";
      return row.state === "active" ? "ok" : "ended";
    });
  }

  /**
   * A logout, in one transaction: the token that opened the session is revoked (so it
   * opens and validates nothing more, and every session it opened is refused), and the
   * session with this sid, and only it, is marked ended: a newer session of the key
   * (another sid, from another token) is left alone. Nothing sets an ended row active
   * again except a new open, whose new sid refuses the ended session's cookies.
   */
  async endSession(session: EndedSession): Promise<void> {
    this.ctx.storage.transactionSync(() => {
      revoke(this.#sql, session.tokenRef, seconds(session.now), session.keepUntil);
      const row = this.#sql
        .exec<{ sid: string }>("SELECT sid FROM sessions WHERE key = ?", session.key)
        .toArray()[0];
      if (row === undefined || !sameSecret(session.sid, row.sid)) return;
      this.#sql.exec(
        "UPDATE sessions SET state = 'ended', ended_at = coalesce(ended_at, ?) WHERE key = ?",
        session.now,
        session.key,
      );
    });
    await scheduleCleanup(this.ctx.storage, session.keepUntil);
  }

  /**
   * Removes every row whose `keep_until` has passed, then sets the next run while rows
   * remain: storage holds only what can still decide a verdict. A full scan per table
   * rather than an index on keep_until: a scan costs rows read ($0.001 a million), an
   * index a second row written on every write ($1 a million).
   */
  override async alarm(): Promise<void> {
    const now = seconds(Date.now());
    const next = this.ctx.storage.transactionSync(() => {
      for (const table of TABLES) this.#sql.exec(`DELETE FROM ${table} WHERE keep_until < ?`, now);
      return earliestKeepUntil(this.#sql);
    });
    if (next !== undefined) await setAlarmAt(this.ctx.storage, next);
  }
}

/*
 * The ledger's helpers are module functions, not methods: every method of a Durable
 * Object class (TypeScript's `private` included) can be called through any stub of its
 * binding, and a helper such as `use` would count a use outside any transaction.
 */

/** One use of a token, inside a caller's transaction. */
function countUse(sql: SqlStorage, token: LedgerToken, options: UseOptions): TokenStanding {
  const row = findToken(sql, token.ref);
  if (revokedFor(row, token.tenant)) return "revoked";
  const before = userRevokedBefore(sql, token);
  if (before !== undefined && token.issuedAt <= before) return "userRevoked";
  // A row past keep_until is as good as removed, so no verdict depends on when cleanup last ran.
  if (row === undefined || row.tenant === null || row.keep_until < options.now) return "unknown";
  // The ref is a hash of the signed token id; a row of another owner is not this token's.
  if (row.tenant !== token.tenant || row.user !== token.user) return "unknown";
  if (options.maxUses !== null && row.uses >= options.maxUses) return "used";
  sql.exec("UPDATE tokens SET uses = uses + 1 WHERE ref = ?", token.ref);
  return "ok";
}

/**
 * A token's revocation: an upsert, so a ref never recorded (or whose row is gone) is
 * revoked too. `tenants`: the only tenants it covers (a scoped caller's, for a token never
 * recorded); without, every tenant, and a narrower earlier revocation is widened.
 */
function revoke(
  sql: SqlStorage,
  ref: string,
  now: number,
  keepUntil: number,
  tenants?: readonly string[],
): void {
  sql.exec(
    `INSERT INTO tokens (ref, tenant, user, issued_at, uses, revoked_at, keep_until, revoked_for)
     VALUES (?, NULL, NULL, NULL, 0, ?, ?, ?)
     ON CONFLICT (ref) DO UPDATE SET revoked_at = coalesce(revoked_at, excluded.revoked_at),
       keep_until = max(keep_until, excluded.keep_until), revoked_for = excluded.revoked_for`,
    ref,
    now,
    keepUntil,
    tenants === undefined ? null : JSON.stringify(tenants),
  );
}

/** Whether a token's row refuses it for `tenant`: revoked, for every tenant or for this one. */
function revokedFor(row: TokenRow | undefined, tenant: string): boolean {
  if (row === undefined || row.revoked_at === null) return false;
  return row.revoked_for === null || (JSON.parse(row.revoked_for) as string[]).includes(tenant);
}

function findToken(sql: SqlStorage, ref: string): TokenRow | undefined {
  return sql
    .exec<TokenRow>(
      "SELECT tenant, user, uses, revoked_at, revoked_for, keep_until FROM tokens WHERE ref = ?",
      ref,
    )
    .toArray()[0];
}

function userRevokedBefore(sql: SqlStorage, user: LedgerUser): number | undefined {
  return sql
    .exec<{ revoked_before: number }>(
      "SELECT revoked_before FROM users WHERE tenant = ? AND user = ?",
      user.tenant,
      user.user,
    )
    .toArray()[0]?.revoked_before;
}

function earliestKeepUntil(sql: SqlStorage): number | undefined {
  const row = sql
    .exec<{ earliest: number | null }>(
      `SELECT min(keep_until) AS earliest FROM (
         SELECT keep_until FROM tokens UNION ALL SELECT keep_until FROM users
         UNION ALL SELECT keep_until FROM sessions)`,
    )
    .toArray()[0];
  return row?.earliest ?? undefined;
}

/** Whenever a row is written and no cleanup is pending, one is set (the invariant: rows imply an alarm). */
async function scheduleCleanup(storage: DurableObjectStorage, keepUntil: number): Promise<void> {
  if ((await storage.getAlarm()) === null) await setAlarmAt(storage, keepUntil);
}

/** The next run: when the earliest row expires, but never sooner than an interval from now. */
async function setAlarmAt(storage: DurableObjectStorage, keepUntil: number): Promise<void> {
  const at = Math.max(keepUntil + 1, seconds(Date.now()) + LEDGER_CLEANUP_INTERVAL_SECONDS);
  await storage.setAlarm(at * 1000);
}
