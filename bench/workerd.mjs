// Shared by `npm run bench` and `npm run soak`: build the Worker as it deploys, start it
// in a bare workerd through Miniflare on loopback, and read that process's CPU and memory.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { wranglerCommand } from "../scripts/wrangler.mjs";

export const root = new URL("..", import.meta.url).pathname;
export const VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

// Secrets for these local runs only (never deployed).
export const API_KEY = "bench-api-key-0123456789abcdef";
export const TENANT = "202007159031";
/** The bench deployment's signing key, so the bench can sign tokens the service would not issue (expired). */
export const SIGNING_SECRET = Buffer.alloc(32, 7);
const bindings = {
  ENVIRONMENT: "test",
  SIGNING_KEYS: `bench:${SIGNING_SECRET.toString("base64url")}`,
  API_KEYS: API_KEY,
  TENANT_SPACE_IDS: TENANT,
};

// The limiters stay in the path (their cost is measured) but cannot trip under load
// from one address.
const LIMIT = { simple: { limit: 1_000_000_000, period: 60 } };
const ratelimits = Object.fromEntries(
  ["ISSUE_LIMITER", "END_LIMITER", "TOKEN_LIMITER", "SESSION_LIMITER", "ADDRESS_LIMITER"].map((name, i) => [
    name,
    { namespace_id: String(9000 + i), ...LIMIT },
  ]),
);

/**
 * `wrangler deploy --dry-run` into `outdir`: the bundle's path and its reported size.
 * `configPath`: the wrangler configuration to build (default the repository's).
 */
export function bundle(outdir, entry, { configPath = join(root, "wrangler.toml") } = {}) {
  const command = wranglerCommand([
    "deploy",
    "--dry-run",
    "--config",
    configPath,
    "--outdir",
    outdir,
    ...(entry ? [entry] : []),
  ]);
  const output = execFileSync(command.file, command.args, {
    // wrangler reads `.env` and writes `.wrangler/` where it runs: beside the configuration.
    cwd: dirname(configPath),
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
  const script = readdirSync(outdir).find((file) => file.endsWith(".js"));
  return { path: join(outdir, script), rawKiB: Number(size?.[1]), gzipKiB: Number(size?.[2]) };
}

function compatibilityDate(configPath) {
  return /compatibility_date\s*=\s*"([^"]+)"/.exec(readFileSync(configPath, "utf8"))[1];
}

/**
 * Starts the bundle; `extraBindings` are added to the test secrets; `kvPersist` a folder for
 * KV; `configPath` the wrangler configuration whose compatibility date it runs on.
 */
export async function start(
  scriptPath,
  { extraBindings = {}, kvPersist, configPath = join(root, "wrangler.toml") } = {},
) {
  // Miniflare 5 takes a new options shape; it converts the long-documented one.
  const mf = new Miniflare(
    convertV4MiniflareOptions({
      host: "127.0.0.1",
      port: 0,
      modules: true,
      scriptPath,
      // Module names are paths relative to this root: the bundle's own folder, wherever it is.
      modulesRoot: dirname(scriptPath),
      compatibilityDate: compatibilityDate(configPath),
      kvNamespaces: ["TOKENS"],
      // Strict mode's ledger (CONSISTENCY=strict), SQLite-backed as in wrangler.toml.
      durableObjects: { LEDGER: { className: "TokenLedger", useSQLite: true } },
      ...(kvPersist && { kvPersist }),
      ratelimits,
      bindings: { ...bindings, ...extraBindings },
      // The Worker's own log lines are not wanted here (one per request): drop them.
      handleStructuredLogs: () => {},
    }),
  );
  const url = await mf.ready;
  return { mf, url: url.origin, pid: workerdPid() };
}

/** The workerd process Miniflare started: a child of this process. */
function workerdPid() {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (stat.includes("(workerd)") && Number(fields[1]) === process.pid) return Number(entry);
    } catch {
      // The process ended while we looked.
    }
  }
  throw new Error("workerd process not found");
}

const CLOCK_TICKS = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

/** utime + stime of the process, all threads, in milliseconds. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** Resident memory of the process, in MiB. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}
