import { base64url } from "jose";
import * as z from "zod/mini";
import { type Refusal, refuse } from "../../core/decision";
import { decodeBase64url, utf8 } from "../../crypto/encoding";
import type { SigningKeyRing } from "../../crypto/signing-keys";

/** A `ccmessaging-token` value longer than this is not one of ours (ours are ~450 characters). */
const MAX_SESSION_VALUE_LENGTH = 1_024;

/**
 * The `ccmessaging-token` value, in the format of Huawei's "Web Channel Interface Authentication": the Base64 of a JSON
 * object with `tenantId`, `channelId` and `userId` (and `createTime`), URL-encoded when
 * it is set as a cookie. To make it unforgeable we add `expireTime`, a random
 * `sessionId`, `tokenRef` (which token opened it, so revoking that token ends the
 * session), the `kid` of the key that made it, and `mac`, an HMAC-SHA-256 over all of
 * them. Times are milliseconds since the epoch, as CC-Messaging's Java side writes them.
 */
export interface SessionClaims {
  readonly tenantId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly createTime: number;
  readonly expireTime: number;
  readonly sessionId: string;
  /** base64url(SHA-256(jti)) of the token that opened the session: its record's key. */
  readonly tokenRef: string;
}

/** v2 added `tokenRef`; a v1 value (no `tokenRef`) is answered as expired, so the client reopens. */
const MAC_CONTEXT = "ccmessaging-token/v2";

const storedShape = z.object({
  tenantId: z.string().check(z.minLength(1)),
  channelId: z.string().check(z.minLength(1)),
  userId: z.string().check(z.minLength(1)),
  createTime: z.number().check(z.int(), z.gte(0)),
  expireTime: z.number().check(z.int(), z.gte(0)),
  sessionId: z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/)),
  tokenRef: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
  kid: z.string().check(z.minLength(1)),
  mac: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
});

/** What the previous version wrote: the same fields but `tokenRef`. */
const previousVersionShape = z.omit(storedShape, { tokenRef: true });

/** The claims, in the one order they are MAC'd and serialised in. */
const CLAIM_ORDER = [
  "tenantId",
  "channelId",
  "userId",
  "createTime",
  "expireTime",
  "sessionId",
  "tokenRef",
] as const satisfies readonly (keyof SessionClaims)[];

/** A JSON array is an unambiguous encoding of the fields, whatever characters they hold. */
function macInput(claims: SessionClaims, kid: string): Uint8Array {
  return utf8(JSON.stringify([MAC_CONTEXT, ...CLAIM_ORDER.map((name) => claims[name]), kid]));
}

/** Returns the Base64 value; the cookie layer URL-encodes it, as Huawei's reader expects. */
export async function encodeSessionValue(keys: SigningKeyRing, claims: SessionClaims): Promise<string> {
  const { kid, key } = keys.current;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, macInput(claims, kid)));
  return serialise(claims, kid, base64url.encode(mac));
}

/** The one form a value is written in; decoding insists on it (see decodeSessionValue). */
function serialise(claims: SessionClaims, kid: string, mac: string): string {
  const fields = Object.fromEntries(CLAIM_ORDER.map((name) => [name, claims[name]]));
  return btoa(String.fromCharCode(...utf8(JSON.stringify({ ...fields, kid, mac }))));
}

export type SessionDecoding = { readonly outcome: "ok"; readonly claims: SessionClaims } | Refusal;

/** Not a value we made: a forgery, or an altered copy of one. */
const forged = (reason: string): Refusal =>
  refuse("tokenInvalid", reason, { securityEvent: "forged_session_value" });
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Huawei's decoding steps (URL-decode, Base64-decode, parse) and then the MAC, all before any
 * KV read. Every failure is a refusal with a reason, never an exception. Only the form
 * we write is accepted: URL-encoded exactly as `encodeURIComponent` does it (or not at
 * all, as a header may carry it) and Base64 of our own serialisation. Base64 and
 * percent-encoding both let several strings decode to the same bytes; refusing the
 * others means no altered value, however harmless, is ever accepted.
 */
export async function decodeSessionValue(keys: SigningKeyRing, value: string): Promise<SessionDecoding> {
  if (value.length > MAX_SESSION_VALUE_LENGTH) return forged("session value too long");
  let base64: string;
  try {
    base64 = decodeURIComponent(value);
  } catch {
    return forged("session value is not URL-encoded");
  }
  if (!BASE64.test(base64) || base64.length % 4 !== 0) return forged("session value is not Base64");
  let parsed: unknown;
  try {
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    parsed = JSON.parse(strictUtf8.decode(bytes));
  } catch {
    return forged("session value is not Base64 of JSON");
  }
  const shape = z.safeParse(storedShape, parsed);
  if (!shape.success) {
    // Not verified (its MAC input differs), and it needs not be: it opens nothing.
    const previous = z.safeParse(previousVersionShape, parsed);
    const previousVersion = previous.success && !Object.hasOwn(parsed as object, "tokenRef");
    return previousVersion
      ? refuse("tokenExpired", "session from an earlier version")
      : forged("session value lacks required fields");
  }
  const { kid, mac, ...claims } = shape.data;
  if (serialise(claims, kid, mac) !== base64 || (value !== base64 && value !== encodeURIComponent(base64))) {
    return forged("session value is not in canonical form");
  }
  const key = keys.byKid.get(kid);
  const macBytes = decodeBase64url(mac);
  if (!key || !macBytes) return forged("session value made with an unknown key");
  // crypto.subtle.verify compares the MAC in constant time.
  const genuine = await crypto.subtle.verify("HMAC", key, new Uint8Array(macBytes), macInput(claims, kid));
  return genuine ? { outcome: "ok", claims } : forged("session value does not verify");
}
