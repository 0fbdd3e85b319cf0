/**
 * Every number the service depends on, with the reason it has that value.
 * Operator-tunable values live in the configuration (src/config); these are not.
 */

/** Workers KV refuses an `expiration`/`expirationTtl` less than 60 s ahead (local KV too). */
export const KV_MIN_TTL_SECONDS = 60;

/**
 * How long a KV read may be served from the edge cache. 30 s is KV's minimum: it bounds
 * how stale a revocation can look in a location that cached the "issued" record.
 */
export const KV_CACHE_TTL_SECONDS = 30;

/**
 * A KV write can take 60 s or more to reach other locations, and a "not found" read is
 * cached like a value (for KV_CACHE_TTL_SECONDS). A correctly signed token with no record
 * yet is therefore accepted while it is younger than both together; after that a missing
 * record means the token is unknown. See docs/storage-schema.md, "Consistency".
 */
export const KV_PROPAGATION_GRACE_SECONDS = 60 + KV_CACHE_TTL_SECONDS;

/** Records outlive the token they describe by this much, so a lookup never races its expiry. */
export const RECORD_EXPIRY_MARGIN_SECONDS = 60;

/** A KV call that has not answered by then is treated as a failure (fail closed). */
export const KV_DEADLINE_MS = 2_000;

/** The ceiling on TOKEN_MAX_USES: a token CEC validates more often than this is not single-use in any useful sense. */
export const TOKEN_MAX_USES_MAX = 1_000;

/** The ceiling on LEDGER_SHARDS: a token id's first byte names its shard (src/ledger/ledger-client.ts). */
export const LEDGER_SHARDS_MAX = 256;

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

/** HMAC-SHA-256 keys shorter than the hash output weaken it (RFC 2104, section 3). */
export const MIN_SIGNING_KEY_BYTES = 32;

/** API keys shorter than this are guessable; `npm run keys` makes 32-byte ones. */
export const MIN_API_KEY_LENGTH = 16;

/** Random bytes in a token id: 128 bits, unguessable and collision-free in practice. */
export const TOKEN_ID_BYTES = 16;

/** The issuer and type written into every token, and required of every token verified. */
export const TOKEN_ISSUER = "cec-edge-token";
export const TOKEN_TYPE = "cec-chat+jwt";

/** The only algorithm we sign or accept. */
export const TOKEN_ALGORITHM = "HS256";

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

/**
 * A session is renewed when a request arrives in the last quarter of its lifetime,
 * as CEC renews its expiring session tokens: an active visitor is never cut off, and
 * an idle one costs no KV write.
 */
export const SESSION_RENEW_FRACTION = 0.25;

/** A `ccmessaging-token` value longer than this is not one of ours (ours are ~450 characters). */
export const MAX_SESSION_VALUE_LENGTH = 1_024;

/** Random bytes in a session id: 128 bits. */
export const SESSION_ID_BYTES = 16;

/** The cookie (and request header) name, as CC-Messaging uses it. */
export const SESSION_COOKIE = "ccmessaging-token";

/**
 * A "repeated_failures" security event fires when one identity fails this many times
 * within the window, counted per isolate (so a distributed attack may fire it later).
 */
export const REPEATED_FAILURE_THRESHOLD = 5;
export const REPEATED_FAILURE_WINDOW_MS = 5 * 60 * 1000;
/** Identities tracked at once per isolate; past this the table starts over. */
export const REPEATED_FAILURE_TRACKED_MAX = 10_000;

/** An incoming X-Request-Id is reused only when it looks like an id, not a payload. */
export const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{8,128}$/;

/** Identity providers' key sets are kept this long in isolate memory (jose's default, 10 min). */
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60 * 1000;
/** At most one refetch per this period when a token names a `kid` the cached set lacks. */
export const JWKS_COOLDOWN_MS = 30 * 1000;
/** A key-set fetch slower than this counts as the provider being down. */
export const JWKS_TIMEOUT_MS = 3 * 1000;
/** After a failed key-set fetch, answer 503 for this long without fetching again. */
export const IDENTITY_PROVIDER_BACKOFF_MS = 5 * 1000;

/** Pseudonyms of recently seen users kept per isolate, so a returning user costs no HMAC. */
export const PSEUDONYM_CACHE_MAX = 10_000;
