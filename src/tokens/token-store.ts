import * as z from "zod/mini";
import { KV_CACHE_TTL_SECONDS } from "../constants";
import { sha256Base64url } from "../crypto/encoding";
import { KvFailure, withKvDeadline } from "../kv";

/**
 * Issued-token records and revocation tombstones in KV, one key per token id:
 * `token:<base64url(SHA-256(tokenId))>` (docs/storage-schema.md). The value holds no
 * secret: the token itself is never stored, and a record alone cannot be turned into one.
 */
const tokenRecord = z.discriminatedUnion("state", [
  z.object({ state: z.literal("issued"), exp: z.number() }),
  z.object({ state: z.literal("revoked"), revokedAt: z.number() }),
]);
export type TokenRecord = z.output<typeof tokenRecord>;

async function recordKey(tokenId: string): Promise<string> {
  return `token:${await sha256Base64url(tokenId)}`;
}

export async function readTokenRecord(kv: KVNamespace, tokenId: string): Promise<TokenRecord | null> {
  const key = await recordKey(tokenId);
  const value = await withKvDeadline("read token record", () =>
    kv.get(key, { type: "json", cacheTtl: KV_CACHE_TTL_SECONDS }),
  );
  if (value === null) return null;
  const record = z.safeParse(tokenRecord, value);
  if (!record.success) throw new KvFailure("read token record", "stored value has the wrong shape");
  return record.data;
}

/** `expiresAt`: seconds since the epoch; the caller keeps it at least KV_MIN_TTL_SECONDS ahead. */
export async function writeTokenRecord(
  kv: KVNamespace,
  tokenId: string,
  record: TokenRecord,
  expiresAt: number,
): Promise<void> {
  const key = await recordKey(tokenId);
  await withKvDeadline("write token record", () =>
    kv.put(key, JSON.stringify(record), { expiration: expiresAt }),
  );
}
