import { sha256, utf8 } from "./encoding";

/**
 * One entry of API_KEYS: `name:key`, or a bare key (unnamed). A name says, in logs and in
 * API_KEY_SCOPES, which backend acted; the key itself is never logged.
 */
export interface ApiKeyEntry {
  readonly name?: string | undefined;
  readonly key: string;
}

/** A key's name: short and plain, as it appears in logs. */
export const API_KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Reads one entry: text with a `:` is `name:key` (a key that holds a `:` must be named),
 * anything else a bare key. Undefined when the text before the `:` is not a name.
 */
export function parseApiKeyEntry(text: string): ApiKeyEntry | undefined {
  const separator = text.indexOf(":");
  if (separator < 0) return { name: undefined, key: text };
  const name = text.slice(0, separator);
  return API_KEY_NAME.test(name) ? { name, key: text.slice(separator + 1) } : undefined;
}

/** A key as the Worker holds it: its SHA-256, its name, and the tenants it may act for. */
export interface ApiKeyHolder {
  /** 1-based position in API_KEYS: how an unnamed key is told apart in logs. */
  readonly index: number;
  readonly name: string | undefined;
  /** API_KEY_SCOPES: the tenant spaces it may act for; undefined = every served tenant. */
  readonly tenants: ReadonlySet<string> | undefined;
}

/**
 * The enterprise backends' API keys, held as SHA-256 digests. A presented key is
 * hashed and compared with every digest in constant time, so neither the match nor
 * its position leaks through timing; hashing first also equalises lengths.
 */
export interface ApiKeyRing {
  readonly keys: readonly (ApiKeyHolder & { readonly digest: ArrayBuffer })[];
}

export async function buildApiKeyRing(
  entries: readonly ApiKeyEntry[],
  scopes: ReadonlyMap<string, ReadonlySet<string>> = new Map(),
): Promise<ApiKeyRing> {
  return {
    keys: await Promise.all(
      entries.map(async ({ name, key }, index) => ({
        index: index + 1,
        name,
        tenants: name === undefined ? undefined : scopes.get(name),
        digest: await sha256(key),
      })),
    ),
  };
}

/** The holder of the presented key, or undefined for none. */
export async function matchApiKey(ring: ApiKeyRing, presented: string): Promise<ApiKeyHolder | undefined> {
  const digest = await sha256(utf8(presented));
  let match: ApiKeyHolder | undefined;
  for (const { digest: candidate, ...holder } of ring.keys) {
    // Every digest is compared, whatever matched before: no early exit for timing to see.
    if (crypto.subtle.timingSafeEqual(candidate, digest) && match === undefined) match = holder;
  }
  return match;
}
