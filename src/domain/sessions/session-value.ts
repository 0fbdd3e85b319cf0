import { base64url } from "jose";
import * as z from "zod/mini";
import { type Decision, ok, type Refusal, refuse } from "../../core/decision";
import { decodeBase64url, utf8 } from "../../crypto/encoding";
import type { SigningKeyRing } from "../../crypto/signing-keys";

/**
 * The longest `ccmessaging-token` value we make or accept, in bytes (the value is ASCII:
 * Base64, URL-encoded). Browsers keep a cookie of at most 4,096 bytes of name and value;
 * `ccmessaging-token=` takes 18 of them. Opening refuses a session whose value would not
 * fit (src/domain/sessions/sessions.ts), so verification never meets one it made.
 */
export const MAX_SESSION_VALUE_BYTES = 4_096 - "ccmessaging-token=".length;

/**
 * The `ccmessaging-token` value, in the format of Huawei's "Web Channel Interface
 * Authentication": the Base64 of a JSON object with `tenantId`, `channelId` and `userId`
 * (and `createTime`), URL-encoded when it is set as a cookie. To make it unforgeable we
 * add `expireTime`, a random `sessionId`, `tokenRef` (which token opened it, so revoking
 * that token ends the session), `epoch` (the consistency epoch it was opened in),
 * `signedInAt` (when its user signed in, or its token was issued: seconds), the
 * `kid` of the key that made it, and `mac`, an HMAC-SHA-256 over all of them. Times are
 * milliseconds since the epoch, as CC-Messaging's Java side writes them.
 */
export interface SessionClaims {
  readonly tenantId: string;
  readonly channelId: string;
  readonly userId: string;
  readonly createTime: number;
  readonly expireTime: number;
  readonly sessionId: string;
  /** base64url(SHA-256(jti)) of the token that opened the session (src/state/keys.ts). */
  readonly tokenRef: string;
  /** The consistency epoch the session was opened in (Config.consistency.epoch). */
  readonly epoch: string;
  /**
   * Seconds: what a user revocation is compared with, the opening token's sign-in (its
   * `auth_time`) or else its issue, so that a session opened after a revocation, at a
   * location it had not reached yet, is refused once it has.
   */
  readonly signedInAt: number;
}

const idText = z.string().check(z.minLength(1));
const hash = z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/));

/**
 * Every version of the value, newest first: the MAC context and the claims it covers,
 * in the one order they are MAC'd and serialised in. Only the newest opens anything; an
 * older one that verifies is answered "from an earlier version" (the page opens a new
 * session), and one that does not verify is a forgery like any other.
 */
const VERSIONS = [
  {
    context: "ccmessaging-token/v3",
    claims: [
      "tenantId",
      "channelId",
      "userId",
      "createTime",
      "expireTime",
      "sessionId",
      "tokenRef",
      "epoch",
      "signedInAt",
    ],
  },
  {
    context: "ccmessaging-token/v2",
    claims: ["tenantId", "channelId", "userId", "createTime", "expireTime", "sessionId", "tokenRef"],
  },
  {
    context: "ccmessaging-token/v1",
    claims: ["tenantId", "channelId", "userId", "createTime", "expireTime", "sessionId"],
  },
] as const satisfies readonly { context: string; claims: readonly (keyof SessionClaims)[] }[];

type Version = (typeof VERSIONS)[number];
const [CURRENT] = VERSIONS;

const FIELD_SCHEMAS = {
  tenantId: idText,
  channelId: idText,
  userId: idText,
  createTime: z.number().check(z.int(), z.gte(0)),
  expireTime: z.number().check(z.int(), z.gte(0)),
  sessionId: z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/)),
  tokenRef: hash,
  epoch: z.string().check(z.regex(/^[A-Za-z0-9._:-]{1,64}$/)),
  signedInAt: z.number().check(z.int(), z.gte(0)),
} as const;

/** The stored shape of a version: exactly its claims, `kid` and `mac`. */
const shapeOf = (version: Version) =>
  z.strictObject({
    ...Object.fromEntries(version.claims.map((name) => [name, FIELD_SCHEMAS[name]])),
    kid: idText,
    mac: hash,
  });
const SHAPES = new Map(VERSIONS.map((version) => [version, shapeOf(version)]));

type Fields = Record<string, string | number>;

/** A JSON array is an unambiguous encoding of the fields, whatever characters they hold. */
function macInput(version: Version, fields: Fields, kid: string): Uint8Array {
  return utf8(JSON.stringify([version.context, ...version.claims.map((name) => fields[name]), kid]));
}

/** The one form a value is written in; decoding insists on it (see decodeSessionValue). */
function serialise(version: Version, fields: Fields, kid: string, mac: string): string {
  const ordered = Object.fromEntries(version.claims.map((name) => [name, fields[name]]));
  return btoa(String.fromCharCode(...utf8(JSON.stringify({ ...ordered, kid, mac }))));
}

/** Returns the Base64 value; the cookie layer URL-encodes it, as Huawei's reader expects. */
export async function encodeSessionValue(keys: SigningKeyRing, claims: SessionClaims): Promise<string> {
  const { kid, key } = keys.current;
  const fields = claims as unknown as Fields;
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, macInput(CURRENT, fields, kid)));
  return serialise(CURRENT, fields, kid, base64url.encode(mac));
}

/** The bytes a value takes in a cookie, URL-encoded as it is set (ASCII: one byte a character). */
export const cookieBytes = (value: string) => encodeURIComponent(value).length;

/** Not a value we made: a forgery, or an altered copy of one. */
const forged = (reason: string): Refusal =>
  refuse("tokenInvalid", reason, { securityEvent: "forged_session_value" });
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * Huawei's decoding steps (URL-decode, Base64-decode, parse) and then the MAC, all before
 * any store is read. Every failure is a refusal with a reason, never an exception. Only
 * the form we write is accepted: URL-encoded exactly as `encodeURIComponent` does it (or
 * not at all, as a header may carry it) and Base64 of our own serialisation. Base64 and
 * percent-encoding both let several strings decode to the same bytes; refusing the
 * others means no altered value, however harmless, is ever accepted.
 */
export async function decodeSessionValue(
  keys: SigningKeyRing,
  value: string,
): Promise<Decision<SessionClaims>> {
  // Counted in bytes, as opening counts them (cookieBytes): what we made always fits.
  if (utf8(value).byteLength > MAX_SESSION_VALUE_BYTES) return forged("session value too long");
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
  const version = VERSIONS.find((candidate) => {
    const shape = SHAPES.get(candidate);
    return shape !== undefined && z.safeParse(shape, parsed).success;
  });
  if (!version) return forged("session value lacks required fields");
  const { kid, mac, ...fields } = parsed as Fields & { kid: string; mac: string };
  if (
    serialise(version, fields, kid, mac) !== base64 ||
    (value !== base64 && value !== encodeURIComponent(base64))
  ) {
    return forged("session value is not in canonical form");
  }
  const key = keys.byKid.get(kid);
  const macBytes = decodeBase64url(mac);
  if (!key || !macBytes) return forged("session value made with an unknown key");
  // crypto.subtle.verify compares the MAC in constant time.
  const genuine = await crypto.subtle.verify(
    "HMAC",
    key,
    new Uint8Array(macBytes),
    macInput(version, fields, kid),
  );
  if (!genuine) return forged("session value does not verify");
  if (version !== CURRENT) return refuse("tokenExpired", "session from an earlier version");
  return ok(fields as unknown as SessionClaims);
}
