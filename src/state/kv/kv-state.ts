import type { Config } from "../../config/config";
import { KV_PROPAGATION_GRACE_SECONDS, REVOCATION_HORIZON_SECONDS } from "../../core/constants";
import { seconds } from "../../core/time";
import { sameSecret } from "../../crypto/compare";
import type { SessionClaims } from "../../domain/sessions/session-value";
import {
  type CredentialState,
  revocationTimeOf,
  type SessionStanding,
  type TokenFacts,
  type TokenOwner,
  type TokenStanding,
} from "../credential-state";
import {
  kvKey,
  newTaggedTokenId,
  sessionIdHashOf,
  sessionRefOf,
  tokenIdNamesTenant,
  tokenRefOf,
  userRefOf,
} from "../keys";
import { KvStore, recordExpiration } from "./kv-store";
import { LocationMemo, memoCacheName } from "./location-memo";
import {
  revokes,
  type SessionRecord,
  sessionRecord,
  type Tombstone,
  tokenRecord,
  userRevocation,
} from "./records";

/**
 * CONSISTENCY=eventual: the state in Workers KV, and nowhere else (docs/storage-schema.md).
 * A write is seen at once where it was made and within about 90 s elsewhere; a missing
 * record is accepted while younger than KV_PROPAGATION_GRACE_SECONDS. There is no
 * compare-and-set, so "at most N uses" cannot be enforced: useToken never answers "used".
 */
export class KvState implements CredentialState {
  private readonly store: KvStore;

  constructor(
    kv: KVNamespace,
    private readonly config: Config,
  ) {
    this.store = new KvStore(
      kv,
      config.storeDeadlineMs,
      config.kvMemoSeconds > 0
        ? new LocationMemo(
            config.kvMemoSeconds,
            async () =>
              caches.open(await memoCacheName(config.environment, [...config.signingKeys.byKid.keys()])),
            Math.ceil(config.storeDeadlineMs / 1000),
          )
        : undefined,
    );
  }

  /** Tagged with the token's tenant, so that a scoped caller's revocation needs no read (revokeToken). */
  newTokenId(owner: TokenOwner): Promise<string> {
    return newTaggedTokenId(owner.tenantSpaceId);
  }

  async recordIssued(token: TokenFacts, signedInAt?: number): Promise<"ok" | "userRevoked"> {
    if (signedInAt !== undefined && (await this.revokedSince(token, signedInAt))) return "userRevoked";
    const lastValidSecond = token.expiresAt + this.config.clockToleranceSeconds;
    await this.store.write(
      kvKey.token(await tokenRefOf(token.tokenId)),
      { state: "issued", exp: token.expiresAt },
      recordExpiration(lastValidSecond, token.issuedAt),
      "write token record",
    );
    return "ok";
  }

  /** Two reads, together: the token's record and the user's revocation. */
  async useToken(token: TokenFacts, now: number): Promise<TokenStanding> {
    const [record, userRevoked] = await Promise.all([
      this.tokenRecord(await tokenRefOf(token.tokenId)),
      this.revokedSince(token, revocationTimeOf(token)),
    ]);
    if (revokes(record)) return "revoked";
    if (userRevoked) return "userRevoked";
    // No record: KV may not have carried it here yet. See KV_PROPAGATION_GRACE_SECONDS.
    return !record && now - token.issuedAt > KV_PROPAGATION_GRACE_SECONDS ? "unknown" : "ok";
  }

  /**
   * A tombstone, with no read first: for an unscoped caller always; for a scoped one when
   * the id's tenant tag (src/state/keys.ts) names one of its tenants. Whose token it is
   * comes from the id alone, never from a read: a location not yet reached by the token's
   * record, or by another caller's tombstone, would answer that wrongly, and a tombstone
   * written on such an answer could replace another tenant's end under KV's
   * last-write-wins. An id tagged for another served tenant is "outOfScope", nothing
   * written. An id tagged for no served tenant names no token of this version: one made
   * before ids carried tags is "outOfScope" while its record is seen here (a scoped caller
   * cannot tell it is its own: an unscoped key revokes it), and anything else is
   * "revoked" with nothing written (it names no token, or one not seen here yet).
   */
  async revokeToken(
    tokenId: string,
    now: number,
    scope?: ReadonlySet<string>,
  ): Promise<"revoked" | "outOfScope"> {
    const tokenRef = await tokenRefOf(tokenId);
    if (scope === undefined || (await namesOneOf(tokenId, scope))) {
      await this.writeTombstone(tokenRef, { state: "revoked", revokedAt: now }, "write token revocation");
      return "revoked";
    }
    if (await namesOneOf(tokenId, this.config.tenantSpaceIds)) return "outOfScope";
    const record = await this.tokenRecord(tokenRef);
    return record?.state === "issued" ? "outOfScope" : "revoked";
  }

  /**
   * The current second is included, so a token issued later in the same second is refused
   * too: a new token works from the next second. No read first, so a later call moves the
   * time forward; the record outlives anything it refuses (REVOCATION_HORIZON_SECONDS).
   */
  async revokeUser(owner: TokenOwner, now: number): Promise<number> {
    await this.store.write(
      kvKey.revokedUser(await userRefOf(owner)),
      { revokedBefore: now },
      recordExpiration(now + REVOCATION_HORIZON_SECONDS, now),
      "write user revocation",
    );
    return now;
  }

  async openSession(session: SessionClaims, token: TokenFacts, nowMs: number): Promise<TokenStanding> {
    const standing = await this.useToken(token, seconds(nowMs));
    if (standing !== "ok") return standing;
    await this.store.write(
      kvKey.session(await sessionRefOf(session)),
      { state: "active", sid: await sessionIdHashOf(session.sessionId) },
      this.sessionRecordExpiration(session, nowMs),
      "write session record",
    );
    return standing;
  }

  /** Three reads, together: the session's record, its token's record, the user's revocation. */
  async checkSession(session: SessionClaims, nowMs: number): Promise<SessionStanding> {
    const owner = { tenantSpaceId: session.tenantId, userId: session.userId };
    const [record, token, userRevoked] = await Promise.all([
      this.sessionRecord(session),
      this.tokenRecord(session.tokenRef),
      this.revokedSince(owner, session.signedInAt),
    ]);
    if (userRevoked) return "userRevoked";
    if (revokes(token)) return token.by === "logout" ? "ended" : "tokenRevoked";
    return sessionStanding(record, await sessionIdHashOf(session.sessionId), session, nowMs);
  }

  /**
   * A logout ends the token that opened the session: one tombstone, keyed on the token's
   * ref the cookie carries, with no read first. Every session that token opened is refused
   * from then on, and the session's own record is never written here: a newer session of
   * the same (tenant, channel, user), opened with another token, is never touched, however
   * the two race (only opening writes that record).
   */
  async endSession(session: SessionClaims, nowMs: number): Promise<void> {
    const tombstone = { state: "revoked", revokedAt: seconds(nowMs), by: "logout" } as const;
    await this.writeTombstone(session.tokenRef, tombstone, "write logout");
  }

  /**
   * A token's tombstone. It outlives the token and every session it can have opened
   * (REVOCATION_HORIZON_SECONDS), whatever the configuration was then.
   */
  private async writeTombstone(tokenRef: string, tombstone: Tombstone, operation: string): Promise<void> {
    const now = tombstone.revokedAt;
    await this.store.write(
      kvKey.token(tokenRef),
      tombstone,
      recordExpiration(now + REVOCATION_HORIZON_SECONDS, now),
      operation,
    );
  }

  private tokenRecord(tokenRef: string) {
    return this.store.read(kvKey.token(tokenRef), tokenRecord, "read token record");
  }

  private async sessionRecord(session: SessionClaims) {
    return this.store.read(kvKey.session(await sessionRefOf(session)), sessionRecord, "read session record");
  }

  /** Whether something of the user's, issued at `issuedAt` (seconds), has been revoked. */
  private async revokedSince(owner: TokenOwner, issuedAt: number): Promise<boolean> {
    const record = await this.store.read(
      kvKey.revokedUser(await userRefOf(owner)),
      userRevocation,
      "read user revocation",
    );
    return record !== null && issuedAt <= record.revokedBefore;
  }

  /** After the last second any cookie of the session can be valid: its hard end. */
  private sessionRecordExpiration(session: SessionClaims, nowMs: number): number {
    const hardEnd = session.createTime + this.config.session.maxLifetimeSeconds * 1000;
    return recordExpiration(seconds(hardEnd) + this.config.clockToleranceSeconds, seconds(nowMs));
  }
}

async function namesOneOf(tokenId: string, tenants: ReadonlySet<string>): Promise<boolean> {
  for (const tenant of tenants) if (await tokenIdNamesTenant(tokenId, tenant)) return true;
  return false;
}

function sessionStanding(
  record: SessionRecord | null,
  presentedSid: string,
  session: SessionClaims,
  nowMs: number,
): SessionStanding {
  if (record === null) {
    // Not yet carried here by KV, or long gone: the token policy (KV_PROPAGATION_GRACE_SECONDS).
    return nowMs - session.createTime <= KV_PROPAGATION_GRACE_SECONDS * 1000 ? "ok" : "unknown";
  }
  const same = record.sid !== undefined && sameSecret(presentedSid, record.sid);
  if (record.state === "ended" && (same || record.sid === undefined)) return "ended";
  return same && record.state === "active" ? "ok" : "replaced";
}
