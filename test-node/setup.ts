// Runs before every Node-side test file. Nothing a test starts may reach Cloudflare or use
// the developer's login, whatever the shell or CI job holds: wrangler sees no credentials,
// a home without its login, and an API address that answers nothing. (scripts/wrangler.mjs
// also refuses, under a test runner, every wrangler command that would change anything.)
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { scratch } from "./scratch";

for (const name of [
  "CLOUDFLARE_API_TOKEN",
  "CLOUDFLARE_API_KEY",
  "CLOUDFLARE_EMAIL",
  "CLOUDFLARE_ACCOUNT_ID",
  "CF_API_TOKEN",
  "CF_API_KEY",
  "CF_EMAIL",
  "CF_ACCOUNT_ID",
]) {
  delete process.env[name];
}
const home = join(scratch, "home");
mkdirSync(home);
process.env.HOME = home;
process.env.XDG_CONFIG_HOME = join(home, ".config");
process.env.CLOUDFLARE_API_BASE_URL = "http://127.0.0.1:9/client/v4";
process.env.WRANGLER_SEND_METRICS = "false";
