import { REVOCATION_HORIZON_SECONDS } from "../constants";
import { recordExpiration } from "../kv";
import { writeTokenRecord } from "./token-store";

/**
 * Writes a tombstone over the token's record. No read first: revocation is idempotent,
 * works for a token whose record has not reached this location yet (or has expired with
 * the token), and costs one write. The tombstone outlives the token and every session it
 * can have opened (REVOCATION_HORIZON_SECONDS), whatever the configuration was then.
 */
export async function revokeToken(kv: KVNamespace, tokenId: string, now = Math.floor(Date.now() / 1000)) {
  await writeTokenRecord(
    kv,
    tokenId,
    { state: "revoked", revokedAt: now },
    recordExpiration(now + REVOCATION_HORIZON_SECONDS, now),
  );
}
