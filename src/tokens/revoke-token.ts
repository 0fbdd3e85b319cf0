import { CLOCK_TOLERANCE_MAX_SECONDS, TOKEN_TTL_MAX_SECONDS } from "../constants";
import { recordExpiration } from "../kv";
import { writeTokenRecord } from "./token-store";

/**
 * Writes a tombstone over the token's record. No read first: revocation is idempotent,
 * works for a token whose record has not reached this location yet, and costs one write.
 * The tombstone outlives any token we could have issued under that id, whatever
 * TOKEN_TTL_SECONDS was at the time.
 */
export async function revokeToken(kv: KVNamespace, tokenId: string, now = Math.floor(Date.now() / 1000)) {
  const lastSecondAnyTokenLives = now + TOKEN_TTL_MAX_SECONDS + CLOCK_TOLERANCE_MAX_SECONDS;
  await writeTokenRecord(
    kv,
    tokenId,
    { state: "revoked", revokedAt: now },
    recordExpiration(lastSecondAnyTokenLives, now),
  );
}
