import { sha256, utf8 } from "./encoding";

/**
 * The enterprise backends' API keys, held as SHA-256 digests. A presented key is
 * hashed and compared with every digest in constant time, so neither the match nor
 * its position leaks through timing; hashing first also equalises lengths.
 */
export interface ApiKeyRing {
  readonly digests: readonly ArrayBuffer[];
}

export async function buildApiKeyRing(keys: readonly string[]): Promise<ApiKeyRing> {
  return { digests: await Promise.all(keys.map((key) => sha256(key))) };
}

/** The 1-based position of the matching key (for logs: which backend), or 0 for none. */
export async function matchApiKey(ring: ApiKeyRing, presented: string): Promise<number> {
  const digest = await sha256(utf8(presented));
  let match = 0;
  ring.digests.forEach((candidate, index) => {
    if (crypto.subtle.timingSafeEqual(candidate, digest) && match === 0) match = index + 1;
  });
  return match;
}
