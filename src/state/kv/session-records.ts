import * as z from "zod/mini";
import { sha256Base64url } from "../../crypto/encoding";
import { readRecord, writeRecord } from "./kv";

/**
 * One record per (tenant, channel, user), as in Huawei's web-channel authentication: a
 * new session replaces the last. The key hashes a JSON array of the three ids, so no two
 * triples share a key (Huawei's reference code concatenates them: "1"+"23" and "12"+"3"
 * collide). The value holds the SHA-256 of the session id, never the id or the cookie
 * (docs/storage-schema.md).
 *
 * Only opening a session and ending one write this record; renewal never does. So an end
 * can be overwritten only by a newer session, whose different id still refuses the
 * ended one: under KV's last-write-wins, nothing brings an ended session back.
 */
const sessionRecord = z.discriminatedUnion("state", [
  z.object({ state: z.literal("active"), sid: z.string() }),
  // `sid` is absent in records written before renewal stopped writing: such an end refuses any session.
  z.object({ state: z.literal("ended"), sid: z.optional(z.string()), endedAt: z.number() }),
]);
export type SessionRecord = z.output<typeof sessionRecord>;

export interface SessionOwner {
  readonly tenantId: string;
  readonly channelId: string;
  readonly userId: string;
}

export async function sessionKey({ tenantId, channelId, userId }: SessionOwner): Promise<string> {
  return `session:${await sha256Base64url(JSON.stringify([tenantId, channelId, userId]))}`;
}

export async function readSessionRecord(kv: KVNamespace, owner: SessionOwner): Promise<SessionRecord | null> {
  return readRecord(kv, await sessionKey(owner), sessionRecord, "read session record");
}

export async function writeSessionRecord(
  kv: KVNamespace,
  owner: SessionOwner,
  record: SessionRecord,
  expiresAt: number,
) {
  await writeRecord(kv, await sessionKey(owner), record, expiresAt, "write session record");
}
