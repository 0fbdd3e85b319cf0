import * as z from "zod/mini";

/**
 * The values the eventual mode keeps in KV, one schema per key family (keys: src/state/keys.ts;
 * every key, value and lifetime: docs/storage-schema.md). None holds a usable secret.
 */

/**
 * `token:<tokenRef>`: written at issuance ("issued", with the token's tenant, so that a
 * scoped key's revocation can tell whose it is), overwritten by a revocation or a logout
 * ("revoked"; a logout's says so, so that its sessions answer "session ended"). A
 * revocation by a scoped caller of a token this location does not know names the
 * `tenants` it covers, and refuses no token of another tenant.
 */
export const tokenRecord = z.discriminatedUnion("state", [
  z.object({ state: z.literal("issued"), exp: z.number(), tenant: z.optional(z.string()) }),
  z.object({
    state: z.literal("revoked"),
    revokedAt: z.number(),
    by: z.optional(z.literal("logout")),
    tenants: z.optional(z.array(z.string())),
  }),
]);
export type TokenRecord = z.output<typeof tokenRecord>;
export type Tombstone = Extract<TokenRecord, { state: "revoked" }>;

/** Whether a token record refuses a token of `tenant`: a tombstone, unless it names other tenants only. */
export function revokes(record: TokenRecord | null, tenant: string): record is Tombstone {
  return record?.state === "revoked" && (record.tenants === undefined || record.tenants.includes(tenant));
}

/**
 * `session:<sessionRef>`: the (tenant, channel, user)'s live session, written only when one
 * opens (the newest wins). `sid` is the SHA-256 of its session id. A logout ends the
 * session's token instead of writing here, so it can never end a newer session. "ended"
 * records were written by earlier versions: they are still honoured until they expire.
 */
export const sessionRecord = z.discriminatedUnion("state", [
  z.object({ state: z.literal("active"), sid: z.string() }),
  z.object({ state: z.literal("ended"), sid: z.optional(z.string()), endedAt: z.number() }),
]);
export type SessionRecord = z.output<typeof sessionRecord>;

/** `revoked-user:<userRef>`: everything the user holds issued at or before `revokedBefore` (seconds). */
export const userRevocation = z.object({ revokedBefore: z.number() });
