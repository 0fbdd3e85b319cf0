import type { Config } from "../../config/config";
import { type Decision, ok, type Refusal, refuse } from "../../core/decision";
import type { ValidateRequest } from "../../core/schemas";
import { randomBase64url } from "../../crypto/encoding";
import { type CredentialState, revocationTimeOf, type SessionStanding } from "../../state/credential-state";
import { tokenRefOf } from "../../state/keys";
import { checkToken, refusalFor, tokenFacts } from "../tokens/validate-token";
import {
  cookieBytes,
  decodeSessionValue,
  encodeSessionValue,
  MAX_SESSION_VALUE_BYTES,
  type SessionClaims,
} from "./session-value";

/**
 * A session is renewed when a request arrives in the last quarter of its lifetime,
 * as CEC renews its expiring session tokens: an active visitor is never cut off, and
 * an idle one costs no write.
 */
const SESSION_RENEW_FRACTION = 0.25;

/** Random bytes in a session id: 128 bits. */
const SESSION_ID_BYTES = 16;

/** An open session: its claims and the cookie value that carries them. */
export interface OpenedSession {
  readonly claims: SessionClaims;
  readonly value: string;
}

/** The session's hard end, in ms: `createTime` plus SESSION_MAX_LIFETIME_SECONDS. */
const hardEnd = (config: Config, createTime: number) => createTime + config.session.maxLifetimeSeconds * 1000;

/** What opening a session may spend: the user's budget, asked once the token has verified. */
export type SessionBudget = (user: { tenantSpaceId: string; userId: string }) => Promise<Refusal | undefined>;

/**
 * Opens a web-channel session for a visitor whose token passes exactly the checks of
 * the validate endpoint (and counts as one of its uses), for a channel CHANNEL_IDS
 * allows, within the user's budget of opens. Replaces any earlier session of the same
 * (tenant, channel, user). The session remembers its token (`tokenRef`): revoking the
 * token ends the session. A value too long for a cookie is refused here, before
 * anything is stored, never at a later verification.
 */
export async function openSession(
  config: Config,
  state: CredentialState,
  request: ValidateRequest & { channelId: string },
  { budget, nowMs = Date.now() }: { budget?: SessionBudget; nowMs?: number } = {},
): Promise<Decision<OpenedSession>> {
  const { channelIds } = config.session;
  if (channelIds !== undefined && !channelIds.has(request.channelId)) {
    return refuse("channelNotAllowed", "channelId is not in CHANNEL_IDS");
  }
  const check = await checkToken(config, request);
  if (check.outcome !== "ok") return check;
  const overBudget = await budget?.(request);
  if (overBudget) return overBudget;
  const claims: SessionClaims = {
    tenantId: request.tenantSpaceId,
    channelId: request.channelId,
    userId: request.userId,
    createTime: nowMs,
    // A cap below SESSION_TTL_SECONDS caps the first expiry too.
    expireTime: Math.min(nowMs + config.session.ttlSeconds * 1000, hardEnd(config, nowMs)),
    sessionId: randomBase64url(SESSION_ID_BYTES),
    tokenRef: await tokenRefOf(check.value.claims.tokenId),
    epoch: config.consistency.epoch,
    signedInAt: revocationTimeOf(tokenFacts(check.value.claims)),
  };
  const value = await encodeSessionValue(config.sessionKeys, claims);
  if (cookieBytes(value) > MAX_SESSION_VALUE_BYTES) {
    return refuse(
      "malformedRequest",
      `channelId and userId too long together: the session would not fit in a cookie (${MAX_SESSION_VALUE_BYTES} bytes)`,
    );
  }
  const standing = await state.openSession(claims, tokenFacts(check.value.claims), nowMs);
  if (standing !== "ok") return refusalFor(standing);
  return ok({ claims, value });
}

/**
 * The one value we made among those presented (a request may carry several
 * `ccmessaging-token` cookies): a value whose MAC does not verify is skipped; exactly one
 * that does is the visitor's; two or more are refused as ambiguous, since a sibling site
 * could have planted one to pin the visitor to another session. With none, the first
 * value's refusal.
 */
async function presentedSession(config: Config, values: readonly string[]): Promise<Decision<SessionClaims>> {
  const decoded = await Promise.all(values.map((value) => decodeSessionValue(config.sessionKeys, value)));
  // A genuine value of an earlier version verifies too: it is answered "expired" on its own.
  const genuine = decoded.filter(
    (decision) => decision.outcome === "ok" || decision.securityEvent !== "forged_session_value",
  );
  if (genuine.length > 1) {
    return refuse("tokenInvalid", "more than one valid ccmessaging-token presented", {
      securityEvent: "ambiguous_session_value",
    });
  }
  return genuine[0] ?? decoded[0] ?? refuse("credentialMissing", "no ccmessaging-token cookie or header");
}

/**
 * Verifies the presented `ccmessaging-token` value(s): decoding and MAC first (a forged
 * value never reaches the state), then both expiries and the epoch, then the state:
 * ended, replaced, its token revoked, its user revoked. Store failures throw.
 */
export async function verifySession(
  config: Config,
  state: CredentialState,
  values: readonly string[],
  nowMs = Date.now(),
): Promise<Decision<SessionClaims>> {
  const decoded = await presentedSession(config, values);
  if (decoded.outcome !== "ok") return decoded;
  const claims = decoded.value;
  const toleranceMs = config.clockToleranceSeconds * 1000;
  if (claims.expireTime + toleranceMs <= nowMs) return refuse("tokenExpired", "session expired");
  if (hardEnd(config, claims.createTime) + toleranceMs <= nowMs) {
    return refuse("tokenExpired", "session past its maximum lifetime");
  }
  if (claims.epoch !== config.consistency.epoch) {
    return refuse("tokenRevoked", "session opened before the consistency mode changed");
  }
  const standing = await state.checkSession(claims, nowMs);
  return standing === "ok" ? ok(claims) : sessionRefusal(standing);
}

function sessionRefusal(standing: Exclude<SessionStanding, "ok">): Refusal {
  switch (standing) {
    case "ended":
      return refuse("tokenRevoked", "session ended");
    case "replaced":
      return refuse("tokenRevoked", "session replaced by a newer one");
    case "unknown":
      return refuse("tokenRevoked", "session unknown");
    case "tokenRevoked":
      return refusalFor("revoked");
    case "userRevoked":
      return refusalFor("userRevoked");
  }
}

/**
 * A renewed cookie when `claims` is in the last part of its life (SESSION_RENEW_FRACTION),
 * else undefined: same session id, a later expiry, never past the hard end. Renewal
 * writes nothing: the record it would write is the one an end overwrites, and a renewal
 * that read "active" before the end could otherwise write it back.
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
 * Ends the session the presented value(s) name, for good, and the token that opened it
 * (it opens and validates nothing more): what matters is that the value is ours, of this
 * epoch and still alive. A newer session of the same (tenant, channel, user), opened with
 * another token, is left alone. Returns the ended session's claims, or undefined when
 * there was nothing to end (or the values were ambiguous).
 */
export async function endSession(
  config: Config,
  state: CredentialState,
  values: readonly string[],
  nowMs = Date.now(),
): Promise<SessionClaims | undefined> {
  const decoded = await presentedSession(config, values);
  if (decoded.outcome !== "ok") return undefined;
  const claims = decoded.value;
  const toleranceMs = config.clockToleranceSeconds * 1000;
  const lastValid = Math.min(claims.expireTime, hardEnd(config, claims.createTime)) + toleranceMs;
  if (lastValid <= nowMs || claims.epoch !== config.consistency.epoch) return undefined;
  await state.endSession(claims, nowMs);
  return claims;
}
