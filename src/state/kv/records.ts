import * as z from "zod/mini";

/**
 * The values the eventual mode keeps in KV, one schema per key family (keys: src/state/keys.ts;
 * every key, value and lifetime: docs/storage-schema.md). None holds a usable secret.
 */

/**
 * `token:<tokenRef>`: written at issuance ("issued"), overwritten by a revocation or a
 * logout ("revoked"; a logout's says so, so that its sessions answer "session ended").
 * Every tombstone refuses the token whoever wrote it: a scoped caller writes one only for
 * a token its id names as the caller's tenant's (src/state/keys.ts), so it never narrows
 * or replaces another's.
 */
export const tokenRecord = z.discriminatedUnion("state", [
  z.object({ state: z.literal("issued"), exp: z.number() }),
  z.object({ state: z.literal("revoked"), revokedAt: z.number(), by: z.optional(z.literal("logout")) }),
]);
export type TokenRecord = z.output<typeof tokenRecord>;
export type Tombstone = Extract<TokenRecord, { state: "revoked" }>;

export function revokes(record: TokenRecord | null): record is Tombstone {
  return record?.state === "revoked";
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
