import { base64url } from "jose";
import { PSEUDONYM_CACHE_MAX } from "../constants";
import { utf8 } from "../crypto/encoding";

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
  const mac = await crypto.subtle.sign("HMAC", key, utf8(JSON.stringify([tenant ?? "", userId])));
  return base64url.encode(new Uint8Array(mac, 0, 16));
}
