// Secrets are not in wrangler.toml, so `wrangler types` cannot see them.
// Set with `wrangler secret put NAME` (README, "Deploy"); optional in development.
interface Env {
  SIGNING_KEYS?: string;
  API_KEYS?: string;
}

// Optional: Workers Analytics Engine dataset for metrics (README, "Metrics").
interface Env {
  METRICS?: AnalyticsEngineDataset;
}

// Optional variables whose default suits most deployments, so wrangler.toml need not list them.
interface Env {
  /** `/docs`: on (default) or off (README, "Configuration"). */
  DOCS?: string;
}
