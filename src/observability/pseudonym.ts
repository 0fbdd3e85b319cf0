import { base64url } from "jose";
import { utf8 } from "../crypto/encoding";

/** Pseudonyms of recently seen users kept per isolate, so a returning user costs no HMAC. */
const PSEUDONYM_CACHE_MAX = 10_000;

/** Recent pseudonyms per key: a returning user (issue, validate, session) costs no HMAC. */
const recent = new WeakMap<CryptoKey, Map<string, string>>();

/**
 * A keyed hash of (tenant, user id): the same user gives the same pseudonym in every
 * log line, so failures can be grouped by user, while the id itself cannot be read back
 * or found by hashing a guessed id without the key. 16 bytes, base64url.
 */
export async function pseudonymise(
  key: CryptoKey,
  tenant: string | undefined,
  userId: string,
): Promise<string> {
  const input = JSON.stringify([tenant ?? "", userId]);
  let byInput = recent.get(key);
  if (!byInput) {
    byInput = new Map();
    recent.set(key, byInput);
  }
  const known = byInput.get(input);
  if (known) return known;
  const mac = await crypto.subtle.sign("HMAC", key, utf8(input));
  const pseudonym = base64url.encode(new Uint8Array(mac, 0, 16));
  // Bounded, so that a spray of identities cannot grow the isolate's memory.
  if (byInput.size >= PSEUDONYM_CACHE_MAX) byInput.clear();
  byInput.set(input, pseudonym);
  return pseudonym;
}
