import type { Config } from "../../config/config";
import {
  KV_PROPAGATION_GRACE_SECONDS,
  REVOCATION_HORIZON_SECONDS,
  TOKEN_ID_BYTES,
} from "../../core/constants";
import { randomBase64url, sha256Base64url, utf8 } from "../../crypto/encoding";
import type { SessionClaims } from "../../domain/sessions/session-value";
import { tokenRefOf } from "../../domain/tokens/token";
import type { CredentialState, SessionStanding, TokenFacts, TokenStanding } from "../credential-state";
import { recordExpiration } from "./kv";
import { readSessionRecord, type SessionRecord, writeSessionRecord } from "./session-records";
import { readTokenRecord, writeTokenRecord } from "./token-records";
import { isRevokedForUser, revokeUser } from "./user-revocation-records";

const seconds = (milliseconds: number) => Math.floor(milliseconds / 1000);

/**
 * CONSISTENCY=eventual: the state in Workers KV (docs/storage-schema.md). A write is
 * seen at once where it was made and within about 90 s elsewhere; a missing record is
 * accepted while younger than KV_PROPAGATION_GRACE_SECONDS. There is no compare-and-set,
 * so "at most N uses" cannot be enforced: useToken never answers "used".
 */
export class KvState implements CredentialState {
  constructor(
    private readonly kv: KVNamespace,
    private readonly config: Config,
  ) {}

  async newTokenId(): Promise<string> {
    return randomBase64url(TOKEN_ID_BYTES);
  }

  async recordIssued(token: TokenFacts, signedInAt?: number): Promise<"ok" | "userRevoked"> {
    if (signedInAt !== undefined && (await isRevokedForUser(this.kv, token, signedInAt)))
      return "userRevoked";
    const lastValidSecond = token.expiresAt + this.config.clockToleranceSeconds;
    await writeTokenRecord(
      this.kv,
      token.tokenId,
      { state: "issued", exp: token.expiresAt },
      recordExpiration(lastValidSecond, token.issuedAt),
    );
    return "ok";
  }

  /** Two reads, together: the token's record and the user's revocation. */
  async useToken(token: TokenFacts, now: number): Promise<TokenStanding> {
    const [record, userRevoked] = await Promise.all([
      readTokenRecord(this.kv, await tokenRefOf(token.tokenId)),
      isRevokedForUser(this.kv, token, token.issuedAt),
    ]);
    if (record?.state === "revoked") return "revoked";
    if (userRevoked) return "userRevoked";
    // No record: KV may not have carried it here yet. See KV_PROPAGATION_GRACE_SECONDS.
    return !record && now - token.issuedAt > KV_PROPAGATION_GRACE_SECONDS ? "unknown" : "ok";
  }

  /**
   * A tombstone, with no read first. It outlives the token and every session it can have
   * opened (REVOCATION_HORIZON_SECONDS), whatever the configuration was then.
   */
  async revokeToken(tokenId: string, now: number): Promise<void> {
    await writeTokenRecord(
      this.kv,
      tokenId,
      { state: "revoked", revokedAt: now },
      recordExpiration(now + REVOCATION_HORIZON_SECONDS, now),
    );
  }

  revokeUser(owner: { tenantSpaceId: string; userId: string }, now: number): Promise<number> {
    return revokeUser(this.kv, owner, now);
  }

  async openSession(session: SessionClaims, token: TokenFacts, nowMs: number): Promise<TokenStanding> {
    const standing = await this.useToken(token, seconds(nowMs));
    if (standing !== "ok") return standing;
    await writeSessionRecord(
      this.kv,
      session,
      { state: "active", sid: await sha256Base64url(session.sessionId) },
      this.sessionRecordExpiration(session, nowMs),
    );
    return standing;
  }

  /** Three reads, together: the session's record, its token's record, the user's revocation. */
  async checkSession(session: SessionClaims, nowMs: number): Promise<SessionStanding> {
    const owner = { tenantSpaceId: session.tenantId, userId: session.userId };
    const [record, token, userRevoked] = await Promise.all([
      readSessionRecord(this.kv, session),
      readTokenRecord(this.kv, session.tokenRef),
      isRevokedForUser(this.kv, owner, seconds(session.createTime)),
    ]);
    if (userRevoked) return "userRevoked";
    if (token?.state === "revoked") return "tokenRevoked";
    return sessionStanding(record, session, nowMs);
  }

  /**
   * The end is written to the session's record, which only opening and ending write:
   * renewal never does, so nothing but a newer session (another id) overwrites it. A
   * record that already holds another session id is a newer session's: left alone.
   */
  async endSession(session: SessionClaims, nowMs: number): Promise<void> {
    const sid = await sha256Base64url(session.sessionId);
    const record = await readSessionRecord(this.kv, session);
    if (record?.sid !== undefined && record.sid !== sid) return;
    await writeSessionRecord(
      this.kv,
      session,
      { state: "ended", sid, endedAt: nowMs },
      this.sessionRecordExpiration(session, nowMs),
    );
  }

  /** After the last second any cookie of the session can be valid: its hard end. */
  private sessionRecordExpiration(session: SessionClaims, nowMs: number): number {
    const hardEnd = session.createTime + this.config.session.maxLifetimeSeconds * 1000;
    return recordExpiration(seconds(hardEnd) + this.config.clockToleranceSeconds, seconds(nowMs));
  }
}

async function sessionStanding(
  record: SessionRecord | null,
  session: SessionClaims,
  nowMs: number,
): Promise<SessionStanding> {
  if (record === null) {
    // Not yet carried here by KV, or long gone: the token policy (KV_PROPAGATION_GRACE_SECONDS).
    return nowMs - session.createTime <= KV_PROPAGATION_GRACE_SECONDS * 1000 ? "ok" : "unknown";
  }
  const presented = utf8(await sha256Base64url(session.sessionId));
  const stored = record.sid === undefined ? undefined : utf8(record.sid);
  const same =
    stored !== undefined &&
    presented.byteLength === stored.byteLength &&
    crypto.subtle.timingSafeEqual(presented, stored);
  if (record.state === "ended" && (same || record.sid === undefined)) return "ended";
  return same && record.state === "active" ? "ok" : "replaced";
}
