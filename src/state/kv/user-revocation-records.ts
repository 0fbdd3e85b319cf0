import * as z from "zod/mini";
import { REVOCATION_HORIZON_SECONDS } from "../../core/constants";
import { sha256Base64url } from "../../crypto/encoding";
import { readRecord, recordExpiration, writeRecord } from "./kv";

/**
 * "End everything of one user": one record per (tenant, user) saying that every token
 * issued, and every session opened, at or before `revokedBefore` (whole seconds since
 * the epoch) is refused. Key: `revoked-user:<base64url(SHA-256(JSON [tenant, user]))>`
 * (docs/storage-schema.md); the value holds only the time.
 */
const userRevocation = z.object({ revokedBefore: z.number() });

export interface RevokedUser {
  readonly tenantSpaceId: string;
  readonly userId: string;
}

async function revocationKey({ tenantSpaceId, userId }: RevokedUser): Promise<string> {
  return `revoked-user:${await sha256Base64url(JSON.stringify([tenantSpaceId, userId]))}`;
}

/**
 * Revokes everything the user holds now. The current second is included, so a token
 * issued later in the same second is refused too: a new token works from the next second.
 * No read first, so a later call moves the time forward; the record outlives anything it
 * refuses (REVOCATION_HORIZON_SECONDS). Returns `revokedBefore`.
 */
export async function revokeUser(
  kv: KVNamespace,
  user: RevokedUser,
  now = Math.floor(Date.now() / 1000),
): Promise<number> {
  await writeRecord(
    kv,
    await revocationKey(user),
    { revokedBefore: now },
    recordExpiration(now + REVOCATION_HORIZON_SECONDS, now),
    "write user revocation",
  );
  return now;
}

/** Whether something of the user's, issued at `issuedAt` (seconds), has been revoked. */
export async function isRevokedForUser(kv: KVNamespace, user: RevokedUser, issuedAt: number) {
  const record = await readRecord(kv, await revocationKey(user), userRevocation, "read user revocation");
  return record !== null && issuedAt <= record.revokedBefore;
}
