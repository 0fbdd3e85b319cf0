#!/usr/bin/env node
// `npm run deploy -- --env <name> [--var KEY:VALUE ...]`: preflight first; on any error
// nothing is deployed. Then `wrangler deploy --env <name>` with the same --var values.
import { spawnSync } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions, usageError } from "./cli.mjs";
import { formatFindings, loadParser, preflight, root } from "./preflight.mjs";
import { wranglerCommand } from "./wrangler.mjs";

const USAGE = `usage: npm run deploy -- --env <name> [--var KEY:VALUE ...] [--config wrangler.toml] [--dry-run]

Runs \`npm run preflight -- --env <name>\` and refuses to deploy on any error; then
\`wrangler deploy --env <name>\` (with --var values passed on, --dry-run builds only, into
dist/<name> beside the configuration). Secrets are never passed with --var: set them with
\`wrangler secret put X --env <name>\`.

Exit status: 0 deployed, 1 preflight or wrangler failed, 2 usage.`;

/** Runs wrangler with the terminal attached; its exit status, or 1 when it could not run. */
function runWrangler(args, { cwd }) {
  let command;
  try {
    command = wranglerCommand(args);
  } catch (error) {
    console.error(`deploy: ${error.message}`);
    return 1;
  }
  return spawnSync(command.file, command.args, { cwd, stdio: "inherit" }).status ?? 1;
}

/**
 * Preflight, then `wrangler deploy` only if it found no error. `varEntries` are the
 * KEY:VALUE strings of --var; `run(args, {cwd})`, which runs wrangler, is replaceable (tests).
 * Returns the exit status.
 * @param {{ env: string, varEntries?: string[], configPath?: string, dryRun?: boolean }} options
 */
export async function deploy(
  { env, varEntries = [], configPath, dryRun = false },
  { run = runWrangler, log = console.log, warn = console.error } = {},
) {
  const vars = {};
  for (const entry of varEntries) {
    const separator = entry.indexOf(":");
    vars[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
  const file = resolve(configPath ?? join(root, "wrangler.toml"));
  const findings = await preflight({ env, vars, configPath: file });
  log(formatFindings(env, findings));
  if (findings.some((finding) => finding.level === "error")) {
    warn("deploy: refused, nothing was deployed");
    return 1;
  }
  // wrangler reads `.env` and writes `.wrangler/` where it runs: beside the configuration.
  const cwd = dirname(file);
  return run(
    [
      "deploy",
      "--config",
      file,
      "--env",
      env,
      ...(dryRun ? ["--dry-run", "--outdir", join(cwd, "dist", env)] : []),
      ...varEntries.flatMap((entry) => ["--var", entry]),
    ],
    { cwd },
  );
}

async function main() {
  const { values } = parseOptions("deploy", USAGE, process.argv.slice(2), {
    env: { type: "string" },
    var: { type: "string", multiple: true },
    config: { type: "string" },
    "dry-run": { type: "boolean" },
  });
  if (!values.env) usageError("deploy", USAGE, "missing --env <name>");
  // --var values are deployed as plain text: a secret's place is `wrangler secret put`.
  const { SECRET_NAMES } = await loadParser();
  for (const entry of values.var ?? []) {
    const separator = entry.indexOf(":");
    if (separator < 1) usageError("deploy", USAGE, "--var takes KEY:VALUE");
    const name = entry.slice(0, separator);
    if (SECRET_NAMES.includes(name)) {
      usageError(
        "deploy",
        USAGE,
        `${name} is a secret: set it with \`wrangler secret put ${name} --env ${values.env}\``,
      );
    }
  }
  return deploy({
    env: values.env,
    varEntries: values.var ?? [],
    configPath: values.config,
    dryRun: values["dry-run"] ?? false,
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`deploy: ${error.message}`);
      process.exit(1);
    },
  );
}
