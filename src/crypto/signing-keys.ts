import { decodeBase64url } from "./encoding";

/** HMAC-SHA-256 keys shorter than the hash output weaken it (RFC 2104, section 3). */
const MIN_SIGNING_KEY_BYTES = 32;

/**
 * `SIGNING_KEYS` format: comma-separated `kid:secret` pairs, the secret being at
 * least 32 random bytes in unpadded base64url. The first key signs; every listed
 * key verifies, which is what lets keys rotate without downtime (README, "Key rotation").
 *
 * @example "2026-11-a:3q2-7w...,2026-05-b:Zm9v..."
 */
export interface SigningKey {
  readonly kid: string;
  readonly key: CryptoKey;
}

export interface SigningKeyRing {
  /** The key new tokens are signed with. */
  readonly current: SigningKey;
  readonly byKid: ReadonlyMap<string, CryptoKey>;
}

export interface RawSigningKey {
  readonly kid: string;
  readonly secret: Uint8Array;
}

/** A `kid` ends up in token headers and logs: keep it short and plain. */
const KID_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/** Parses the variable's text; a string result is the reason it is refused (never the value). */
export function parseSigningKeys(text: string): RawSigningKey[] | string {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return "must list at least one kid:secret pair";
  const keys: RawSigningKey[] = [];
  for (const [index, entry] of entries.entries()) {
    const separator = entry.indexOf(":");
    const kid = entry.slice(0, separator);
    const secret = separator > 0 ? decodeBase64url(entry.slice(separator + 1)) : undefined;
    if (!KID_PATTERN.test(kid)) {
      return `entry ${index + 1} needs a kid of 1 to 64 letters, digits, '.', '_' or '-' before ':'`;
    }
    if (!secret || secret.byteLength < MIN_SIGNING_KEY_BYTES) {
      return `entry ${index + 1} needs a secret of at least ${MIN_SIGNING_KEY_BYTES} bytes in unpadded base64url after ':'`;
    }
    if (keys.some((key) => key.kid === kid)) return `entry ${index + 1} repeats a kid`;
    keys.push({ kid, secret });
  }
  return keys;
}

/**
 * Imports the keys once per isolate, non-extractable, for one purpose. Tokens use the
 * secret as listed; every other purpose gets its own key derived with HKDF, so that a
 * MAC made for one purpose (a session cookie) can never pass as another (a token).
 */
export async function importKeyRing(
  keys: readonly [RawSigningKey, ...RawSigningKey[]],
  purpose: KeyPurpose,
): Promise<SigningKeyRing> {
  const imported = await Promise.all(
    keys.map(async ({ kid, secret }) => ({ kid, key: await importHmacKey(new Uint8Array(secret), purpose) })),
  );
  const [current] = imported as [SigningKey, ...SigningKey[]];
  return { current, byKid: new Map(imported.map(({ kid, key }) => [kid, key])) };
}

const HMAC = { name: "HMAC", hash: "SHA-256" } as const;

/** What a key is for: tokens use the listed secret; the rest derive their own with HKDF. */
export type KeyPurpose = "token" | "session-cookie" | "log-pseudonym";

async function importHmacKey(secret: Uint8Array<ArrayBuffer>, purpose: KeyPurpose) {
  if (purpose === "token") return crypto.subtle.importKey("raw", secret, HMAC, false, ["sign", "verify"]);
  const base = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    {
      name: "HKDF",
      hash: "SHA-256",
      salt: new Uint8Array(0),
      info: new TextEncoder().encode(`cec-edge-token ${purpose} v1`),
    },
    base,
    { ...HMAC, length: 256 },
    false,
    ["sign", "verify"],
  );
}
