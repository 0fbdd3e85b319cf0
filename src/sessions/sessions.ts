import type { Config } from "../config/config";
import { KV_PROPAGATION_GRACE_SECONDS, SESSION_ID_BYTES, SESSION_RENEW_FRACTION } from "../constants";
import { randomBase64url, sha256Base64url, utf8 } from "../crypto/encoding";
import { recordExpiration } from "../kv";
import { isRevokedForUser } from "../revocations/user-revocation";
import type { ValidateRequest } from "../schemas";
import { readTokenRecord, tokenRefOf } from "../tokens/token-store";
import { REVOKED, USER_REVOKED, type Verdict, validateToken } from "../tokens/validate-token";
import { readSessionRecord, type SessionRecord, writeSessionRecord } from "./session-store";
import { decodeSessionValue, encodeSessionValue, type SessionClaims } from "./session-value";

/** An open session: its claims and the cookie value that carries them. */
export interface OpenedSession {
  readonly claims: SessionClaims;
  readonly value: string;
}

export type SessionVerdict =
  | { readonly outcome: "ok"; readonly claims: SessionClaims }
  | { readonly outcome: "tokenInvalid" | "tokenExpired" | "tokenRevoked"; readonly reason: string };

const seconds = (milliseconds: number) => Math.floor(milliseconds / 1000);

/** The session's hard end, in ms: `createTime` plus SESSION_MAX_LIFETIME_SECONDS. */
const hardEnd = (config: Config, createTime: number) => createTime + config.session.maxLifetimeSeconds * 1000;

/**
 * When the session's record may expire: after the last second any cookie of it can be
 * valid (renewal stops at the hard end), so an end marker is never lost before the
 * session it ends could have lived.
 */
const sessionRecordExpiration = (config: Config, claims: SessionClaims, nowMs: number) =>
  recordExpiration(
    seconds(hardEnd(config, claims.createTime)) + config.clockToleranceSeconds,
    seconds(nowMs),
  );

/**
 * Opens a web-channel session for a visitor whose token passes exactly the checks of
 * the validate endpoint. Replaces any earlier session of the same (tenant, channel, user).
 * The session remembers its token (`tokenRef`): revoking the token ends the session.
 */
export async function openSession(
  config: Config,
  kv: KVNamespace,
  request: ValidateRequest & { channelId: string },
  nowMs = Date.now(),
): Promise<Exclude<Verdict, { outcome: "ok" }> | ({ outcome: "ok" } & OpenedSession)> {
  const verdict = await validateToken(config, kv, request, seconds(nowMs));
  if (verdict.outcome !== "ok") return verdict;
  const claims: SessionClaims = {
    tenantId: request.tenantSpaceId,
    channelId: request.channelId,
    userId: request.userId,
    createTime: nowMs,
    // A cap below SESSION_TTL_SECONDS caps the first expiry too.
    expireTime: Math.min(nowMs + config.session.ttlSeconds * 1000, hardEnd(config, nowMs)),
    sessionId: randomBase64url(SESSION_ID_BYTES),
    tokenRef: await tokenRefOf(verdict.claims.tokenId),
  };
  await writeSessionRecord(
    kv,
    claims,
    { state: "active", sid: await sha256Base64url(claims.sessionId) },
    sessionRecordExpiration(config, claims, nowMs),
  );
  return { outcome: "ok", claims, value: await encodeSessionValue(config.sessionKeys, claims) };
}

/**
 * Verifies a presented `ccmessaging-token` value: decoding and MAC first (a forged
 * value never reaches KV), then both expiries, then three KV reads made together: the
 * session's record, the record of the token that opened it, and the user's revocation.
 * KV failures throw (fail closed).
 */
export async function verifySession(
  config: Config,
  kv: KVNamespace,
  value: string,
  nowMs = Date.now(),
): Promise<SessionVerdict> {
  const decoded = await decodeSessionValue(config.sessionKeys, value);
  if (!decoded.ok) return { outcome: decoded.outcome, reason: decoded.reason };
  const { claims } = decoded;
  const toleranceMs = config.clockToleranceSeconds * 1000;
  if (claims.expireTime + toleranceMs <= nowMs) return { outcome: "tokenExpired", reason: "session expired" };
  if (hardEnd(config, claims.createTime) + toleranceMs <= nowMs) {
    return { outcome: "tokenExpired", reason: "session past its maximum lifetime" };
  }
  const [record, token, userRevoked] = await Promise.all([
    readSessionRecord(kv, claims),
    readTokenRecord(kv, claims.tokenRef),
    isRevokedForUser(
      kv,
      { tenantSpaceId: claims.tenantId, userId: claims.userId },
      seconds(claims.createTime),
    ),
  ]);
  if (userRevoked) return { outcome: "tokenRevoked", reason: USER_REVOKED };
  if (token?.state === "revoked") return { outcome: "tokenRevoked", reason: REVOKED };
  return sessionRecordVerdict(record, claims, nowMs);
}

async function sessionRecordVerdict(
  record: SessionRecord | null,
  claims: SessionClaims,
  nowMs: number,
): Promise<SessionVerdict> {
  if (record === null) {
    // Not yet carried here by KV, or long gone: the token policy (KV_PROPAGATION_GRACE_SECONDS).
    return nowMs - claims.createTime <= KV_PROPAGATION_GRACE_SECONDS * 1000
      ? { outcome: "ok", claims }
      : { outcome: "tokenRevoked", reason: "session unknown" };
  }
  const presented = utf8(await sha256Base64url(claims.sessionId));
  const stored = record.sid === undefined ? undefined : utf8(record.sid);
  const same =
    stored !== undefined &&
    presented.byteLength === stored.byteLength &&
    crypto.subtle.timingSafeEqual(presented, stored);
  if (record.state === "ended" && (same || record.sid === undefined)) {
    return { outcome: "tokenRevoked", reason: "session ended" };
  }
  return same && record.state === "active"
    ? { outcome: "ok", claims }
    : { outcome: "tokenRevoked", reason: "session replaced by a newer one" };
}

/**
 * A renewed cookie when `claims` is in the last part of its life (SESSION_RENEW_FRACTION),
 * else undefined: same session id, a later expiry, never past the hard end. Renewal
 * writes nothing to KV: the record it would have written is the one an end overwrites,
 * and a renewal that read "active" before the end could otherwise write it back.
 */
export async function renewSession(
  config: Config,
  claims: SessionClaims,
  nowMs = Date.now(),
): Promise<OpenedSession | undefined> {
  const ttlMs = config.session.ttlSeconds * 1000;
  if (claims.expireTime - nowMs > ttlMs * SESSION_RENEW_FRACTION) return undefined;
  const expireTime = Math.min(nowMs + ttlMs, hardEnd(config, claims.createTime));
  if (expireTime <= claims.expireTime) return undefined;
  const renewed = { ...claims, expireTime };
  return { claims: renewed, value: await encodeSessionValue(config.sessionKeys, renewed) };
}

/**
 * Ends the session: its record says "ended" for this session id. Only a newer session
 * (another id) ever overwrites it, and that id does not verify this session's cookies.
 */
export async function endSession(config: Config, kv: KVNamespace, claims: SessionClaims, nowMs = Date.now()) {
  await writeSessionRecord(
    kv,
    claims,
    { state: "ended", sid: await sha256Base64url(claims.sessionId), endedAt: nowMs },
    sessionRecordExpiration(config, claims, nowMs),
  );
}
