import * as z from "zod/mini";
import { tokenRefOf } from "../../domain/tokens/token";
import { readRecord, writeRecord } from "./kv";

/**
 * Issued-token records and revocation tombstones in KV, one key per token id:
 * `token:<tokenRef>`, where the token's ref is base64url(SHA-256(tokenId))
 * (docs/storage-schema.md). The value holds no secret: the token itself is never stored,
 * and a record alone cannot be turned into one.
 */
const tokenRecord = z.discriminatedUnion("state", [
  z.object({ state: z.literal("issued"), exp: z.number() }),
  z.object({ state: z.literal("revoked"), revokedAt: z.number() }),
]);
export type TokenRecord = z.output<typeof tokenRecord>;

export async function readTokenRecord(kv: KVNamespace, tokenRef: string): Promise<TokenRecord | null> {
  return readRecord(kv, `token:${tokenRef}`, tokenRecord, "read token record");
}

export async function writeTokenRecord(
  kv: KVNamespace,
  tokenId: string,
  record: TokenRecord,
  expiresAt: number,
) {
  await writeRecord(kv, `token:${await tokenRefOf(tokenId)}`, record, expiresAt, "write token record");
}
