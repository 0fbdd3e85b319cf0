// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
// Set with `wrangler secret put NAME --env <name>` (README, "Deploy"); optional in development.
interface Env {
  SIGNING_KEYS?: string;
  API_KEYS?: string;
}

// Variables with a default in the parser (src/config/config.ts) that wrangler.toml
// leaves out unless an environment differs: optional, as the parser reads them.
interface Env {
  TOKEN_TTL_SECONDS?: string;
  CLOCK_TOLERANCE_SECONDS?: string;
  VALIDATE_PATH?: string;
  SESSION_TTL_SECONDS?: string;
  SESSION_MAX_LIFETIME_SECONDS?: string;
  /** Comma-separated channel ids a session may be opened for (unset: any). */
  CHANNEL_IDS?: string;
  COOKIE_SAME_SITE?: string;
  COOKIE_HTTP_ONLY?: string;
  COOKIE_PARTITIONED?: string;
  COOKIE_DOMAIN?: string;
  ALLOWED_ORIGINS?: string;
  IDENTITY_ISSUERS?: string;
  /** JSON object: an API key's name → the tenant space ids it may act for (README, "For partners"). */
  API_KEY_SCOPES?: string;
  PLAYGROUND?: string;
  LOG_USER_IDS?: string;
  /** `/docs`: on (default) or off (README, "Configuration"). */
  DOCS?: string;
  /** `eventual` (default) or `strict` (docs/consistency.md), with the strict mode's settings. */
  CONSISTENCY?: string;
  TOKEN_MAX_USES?: string;
  LEDGER_LOCATION_HINT?: string;
  /** Changed at every switch of CONSISTENCY (docs/consistency.md, "Switching modes"). */
  CONSISTENCY_EPOCH?: string;
  /** How long a KV or ledger call may take before the request fails closed (default 2000). */
  STORE_DEADLINE_MS?: string;
  /** How long a location reuses what it read from KV, 0 to 30 (default 30). */
  KV_MEMO_SECONDS?: string;
}

// Optional: Workers Analytics Engine dataset for metrics (README, "Metrics").
interface Env {
  METRICS?: AnalyticsEngineDataset;
}
