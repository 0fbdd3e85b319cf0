/**
 * The numbers several modules share, each with the reason it has that value. A number
 * only one module uses lives in that module, beside the code it explains; operator-tunable
 * values live in the configuration (src/config).
 */

/** Workers KV refuses an `expiration`/`expirationTtl` less than 60 s ahead (local KV too). */
export const KV_MIN_TTL_SECONDS = 60;

/**
 * How long KV's edge cache may serve a read (`cacheTtl`). 30 s is KV's minimum: the
 * shortest time a location can keep showing an older value than the central store's.
 */
export const KV_CACHE_TTL_SECONDS = 30;

/**
 * How long KV itself may take to show a write at another location. KV writes to central
 * stores and documents that changes "may take up to 60 seconds or more to be visible in
 * other global network locations as cached versions of the data time out" (with its
 * default cacheTtl of 60 s; ours is KV_CACHE_TTL_SECONDS, so 60 s is the cautious end).
 */
export const KV_VISIBILITY_SECONDS = 60;

/**
 * How long a Cloudflare location reuses what it read from KV before reading again
 * (src/state/kv/location-memo.ts). Together with KV_VISIBILITY_SECONDS it is the bound
 * the docs state for an end to reach every other location, about 90 s; where the end is
 * made it is seen at once, because the write is put into the memo too.
 */
export const KV_MEMO_SECONDS = 30;

/**
 * A correctly signed token with no record yet is accepted while younger than the time a
 * record takes to be seen everywhere (KV's own delay, then the memo of a "not found");
 * after that a missing record means the token is unknown. See docs/storage-schema.md,
 * "Consistency".
 */
export const KV_PROPAGATION_GRACE_SECONDS = KV_VISIBILITY_SECONDS + KV_MEMO_SECONDS;

/** The hard ceiling on any token's life, whatever TOKEN_TTL_SECONDS says (one day). */
export const TOKEN_TTL_MAX_SECONDS = 86_400;

/** The ceiling on CLOCK_TOLERANCE_SECONDS: more than five minutes hides a broken clock. */
export const CLOCK_TOLERANCE_MAX_SECONDS = 300;

/** Request bodies are refused past this size, before they are parsed. */
export const MAX_BODY_BYTES = 4 * 1024;

/** Field length limits. CEC's own ids are short; a few hundred characters is generous. */
export const MAX_ID_LENGTH = 128;
export const MAX_USER_NAME_LENGTH = 256;
/** Our tokens are about 350 characters; anything far longer is not one of ours. */
export const MAX_TOKEN_LENGTH = 2_048;

/** API keys shorter than this are guessable; `npm run keys` makes 32-byte ones. */
export const MIN_API_KEY_LENGTH = 16;

/** The ceiling on SESSION_TTL_SECONDS (one day); CEC's own session tokens live an hour. */
export const SESSION_TTL_MAX_SECONDS = 86_400;

/** The ceiling on SESSION_MAX_LIFETIME_SECONDS (a week): no chat session needs to outlive it. */
export const SESSION_MAX_LIFETIME_MAX_SECONDS = 604_800;

/**
 * The longest anything we issue can stay valid: a session renewed up to the highest
 * allowed absolute lifetime, plus the highest clock tolerance. Revocation records (of a
 * token, of a user) live this long past the moment they cover, whatever the configuration
 * was when the token or session was issued, so nothing they refuse can outlive them.
 */
export const REVOCATION_HORIZON_SECONDS =
  Math.max(TOKEN_TTL_MAX_SECONDS, SESSION_MAX_LIFETIME_MAX_SECONDS) + CLOCK_TOLERANCE_MAX_SECONDS;

/** Records outlive what they describe by this much, so a lookup never races their expiry. */
export const RECORD_EXPIRY_MARGIN_SECONDS = 60;

/** Random bytes in a token id: 128 bits, unguessable and collision-free in practice. */
export const TOKEN_ID_BYTES = 16;
