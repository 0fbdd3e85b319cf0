import type { Config } from "../config/config";
import { KV_PROPAGATION_GRACE_SECONDS, SESSION_ID_BYTES, SESSION_RENEW_FRACTION } from "../constants";
import { randomBase64url, sha256Base64url, utf8 } from "../crypto/encoding";
import { KvFailure, recordExpiration } from "../kv";
import { logEvent } from "../observability/log";
import type { ValidateRequest } from "../schemas";
import { type Verdict, validateToken } from "../tokens/validate-token";
import { readSessionRecord, writeSessionRecord } from "./session-store";
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

/**
 * Opens a web-channel session for a visitor whose token passes exactly the checks of
 * the validate endpoint. Replaces any earlier session of the same (tenant, channel, user).
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
    expireTime: nowMs + config.session.ttlSeconds * 1000,
    sessionId: randomBase64url(SESSION_ID_BYTES),
  };
  return { outcome: "ok", ...(await storeSession(config, kv, claims, nowMs)) };
}

/** Writes the session's record (replacing the last one) and makes its cookie value. */
async function storeSession(config: Config, kv: KVNamespace, claims: SessionClaims, nowMs: number) {
  const lastValidSecond = seconds(claims.expireTime) + config.clockToleranceSeconds;
  await writeSessionRecord(
    kv,
    claims,
    { state: "active", sid: await sha256Base64url(claims.sessionId), expireTime: claims.expireTime },
    recordExpiration(lastValidSecond, seconds(nowMs)),
  );
  return { claims, value: await encodeSessionValue(config.sessionKeys, claims) };
}

/**
 * Verifies a presented `ccmessaging-token` value: decoding and MAC first (a forged
 * value never reaches KV), then expiry, then one KV read and a constant-time
 * comparison with the stored session id hash. KV failures throw (fail closed).
 */
export async function verifySession(
  config: Config,
  kv: KVNamespace,
  value: string,
  nowMs = Date.now(),
): Promise<SessionVerdict> {
  const decoded = await decodeSessionValue(config.sessionKeys, value);
  if (!decoded.ok) return { outcome: "tokenInvalid", reason: decoded.reason };
  const { claims } = decoded;
  if (claims.expireTime + config.clockToleranceSeconds * 1000 <= nowMs) {
    return { outcome: "tokenExpired", reason: "session expired" };
  }
  const record = await readSessionRecord(kv, claims);
  if (record?.state === "ended") return { outcome: "tokenRevoked", reason: "session ended" };
  if (record === null) {
    // Not yet carried here by KV, or long gone: the token policy (KV_PROPAGATION_GRACE_SECONDS).
    return nowMs - claims.createTime <= KV_PROPAGATION_GRACE_SECONDS * 1000
      ? { outcome: "ok", claims }
      : { outcome: "tokenRevoked", reason: "session unknown" };
  }
  const presented = utf8(await sha256Base64url(claims.sessionId));
  const stored = utf8(record.sid);
  const same = presented.byteLength === stored.byteLength && crypto.subtle.timingSafeEqual(presented, stored);
  return same
    ? { outcome: "ok", claims }
    : { outcome: "tokenRevoked", reason: "session replaced by a newer one" };
}

/**
 * A renewed session when `claims` is in the last part of its life (SESSION_RENEW_FRACTION),
 * else undefined. Same session id, so the record's value is unchanged and concurrent
 * renewals agree; only the expiry moves. A failed write skips the renewal: the current
 * cookie stays valid until it expires.
 */
export async function renewSession(
  config: Config,
  kv: KVNamespace,
  claims: SessionClaims,
  nowMs = Date.now(),
): Promise<OpenedSession | undefined> {
  const ttlMs = config.session.ttlSeconds * 1000;
  if (claims.expireTime - nowMs > ttlMs * SESSION_RENEW_FRACTION) return undefined;
  try {
    return await storeSession(config, kv, { ...claims, expireTime: nowMs + ttlMs }, nowMs);
  } catch (error) {
    if (!(error instanceof KvFailure)) throw error;
    logEvent("warn", "session_renewal_skipped", { failure: error.failure });
    return undefined;
  }
}

/** Ends the session: a tombstone, so that the propagation grace cannot revive it. */
export async function endSession(config: Config, kv: KVNamespace, claims: SessionClaims, nowMs = Date.now()) {
  const lastValidSecond = seconds(claims.expireTime) + config.clockToleranceSeconds;
  await writeSessionRecord(
    kv,
    claims,
    { state: "ended", endedAt: nowMs },
    recordExpiration(lastValidSecond, seconds(nowMs)),
  );
}
