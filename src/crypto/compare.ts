import { utf8 } from "./encoding";

/**
 * Whether two strings derived from a secret (hashes of session ids, say) are equal,
 * compared in constant time: the house rule for anything an attacker could probe byte by
 * byte. Strings of different lengths are unequal at once (their lengths are not secret).
 */
export function sameSecret(presented: string, stored: string): boolean {
  const a = utf8(presented);
  const b = utf8(stored);
  return a.byteLength === b.byteLength && crypto.subtle.timingSafeEqual(a, b);
}
