import { sha256Base64url } from "../crypto/encoding";

/**
 * How stored things are named, in one place for both stores: no key or column holds a
 * token id, a session id or a user's ids in a form a dump could turn into a credential.
 * Every reference is base64url(SHA-256(...)), 43 characters; ids that come in several
 * are hashed as a JSON array, so no two tuples share a reference (Huawei's reference code
 * concatenates the ids of a web-channel session: "1"+"23" and "12"+"3" collide).
 * docs/storage-schema.md lists every key.
 */

/** A token as named in storage and in the sessions it opens (the cookie's `tokenRef`). */
export function tokenRefOf(tokenId: string): Promise<string> {
  return sha256Base64url(tokenId);
}

export interface SessionOwner {
  readonly tenantId: string;
  readonly channelId: string;
  readonly userId: string;
}

/** A web-channel session's (tenant, channel, user): one live session each, as in Huawei's lookup. */
export function sessionRefOf({ tenantId, channelId, userId }: SessionOwner): Promise<string> {
  return sha256Base64url(JSON.stringify([tenantId, channelId, userId]));
}

/** What storage keeps of a session id: its hash, compared in constant time. */
export function sessionIdHashOf(sessionId: string): Promise<string> {
  return sha256Base64url(sessionId);
}

export interface UserRef {
  readonly tenantSpaceId: string;
  readonly userId: string;
}

/** A (tenant, user), as named in KV (the ledger keeps the ids as columns: user revocation looks them up). */
export function userRefOf({ tenantSpaceId, userId }: UserRef): Promise<string> {
  return sha256Base64url(JSON.stringify([tenantSpaceId, userId]));
}

/** The Workers KV keys (eventual mode). */
export const kvKey = {
  token: (tokenRef: string) => `token:${tokenRef}`,
  session: (sessionRef: string) => `session:${sessionRef}`,
  revokedUser: (userRef: string) => `revoked-user:${userRef}`,
} as const;
