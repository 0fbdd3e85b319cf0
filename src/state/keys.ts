import { base64url } from "jose";
import { TOKEN_ID_BYTES } from "../core/constants";
import { decodeBase64url, sha256, sha256Base64url } from "../crypto/encoding";

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

/**
 * Bytes at the start of an eventual-mode token id that name its tenant: the first bytes of
 * SHA-256(JSON ["tenant", tenantSpaceId]). A scoped caller's revocation tells whose token
 * an id is from the id alone, with no KV read that a location not yet reached by the
 * token's record or tombstone could answer wrongly. 6 bytes: two served tenants share a
 * tag with a chance of one in 2^48 per pair; 10 random bytes (80 bits) remain.
 */
export const TENANT_TAG_BYTES = 6;

/** Tags by tenant, once per isolate: only served tenants are tagged, so it stays small. */
const tenantTags = new Map<string, Promise<Uint8Array>>();

function tenantTagOf(tenantSpaceId: string): Promise<Uint8Array> {
  let tag = tenantTags.get(tenantSpaceId);
  if (tag === undefined) {
    tag = sha256(JSON.stringify(["tenant", tenantSpaceId])).then(
      (digest) => new Uint8Array(digest, 0, TENANT_TAG_BYTES),
    );
    tenantTags.set(tenantSpaceId, tag);
  }
  return tag;
}

/** A new eventual-mode token id for `tenantSpaceId`: its tenant tag, then random bytes (22 base64url characters). */
export async function newTaggedTokenId(tenantSpaceId: string): Promise<string> {
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_ID_BYTES));
  bytes.set(await tenantTagOf(tenantSpaceId));
  return base64url.encode(bytes);
}

/** Whether `tokenId` carries the tenant tag of `tenantSpaceId` (src/state/kv/kv-state.ts, revokeToken). */
export async function tokenIdNamesTenant(tokenId: string, tenantSpaceId: string): Promise<boolean> {
  const bytes = decodeBase64url(tokenId);
  if (bytes?.byteLength !== TOKEN_ID_BYTES) return false;
  const tag = await tenantTagOf(tenantSpaceId);
  return tag.every((byte, index) => bytes[index] === byte);
}

/** The Workers KV keys (eventual mode). */
export const kvKey = {
  token: (tokenRef: string) => `token:${tokenRef}`,
  session: (sessionRef: string) => `session:${sessionRef}`,
  revokedUser: (userRef: string) => `revoked-user:${userRef}`,
} as const;
