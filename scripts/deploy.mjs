#!/usr/bin/env node
// `npm run deploy -- --env <name> [--var KEY:VALUE ...]`: preflight first; on any error
// nothing is deployed. Then `wrangler deploy --env <name>` with the same --var values.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseOptions, usageError } from "./cli.mjs";
import { formatFindings, preflight, root } from "./preflight.mjs";

const USAGE = `usage: npm run deploy -- --env <name> [--var KEY:VALUE ...] [--dry-run]

Runs \`npm run preflight -- --env <name>\` and refuses to deploy on any error; then
\`wrangler deploy --env <name>\` (with --var values passed on, --dry-run builds only).
Secrets are never passed with --var: set them with \`wrangler secret put X --env <name>\`.

Exit status: 0 deployed, 1 preflight or wrangler failed, 2 usage.`;

async function main() {
  const { values } = parseOptions("deploy", USAGE, process.argv.slice(2), {
    env: { type: "string" },
    var: { type: "string", multiple: true },
    "dry-run": { type: "boolean" },
  });
  if (!values.env) usageError("deploy", USAGE, "missing --env <name>");
  const vars = {};
  for (const entry of values.var ?? []) {
    const separator = entry.indexOf(":");
    if (separator < 1) usageError("deploy", USAGE, "--var takes KEY:VALUE");
    const name = entry.slice(0, separator);
    if (name === "SIGNING_KEYS" || name === "API_KEYS") {
      usageError(
        "deploy",
        USAGE,
        `${name} is a secret: set it with \`wrangler secret put ${name} --env ${values.env}\``,
      );
    }
    vars[name] = entry.slice(separator + 1);
  }

  const findings = await preflight({ env: values.env, vars });
  console.log(formatFindings(values.env, findings));
  if (findings.some((finding) => finding.level === "error")) {
    console.error("deploy: refused, nothing was deployed");
    return 1;
  }
  const wrangler = spawnSync(
    process.execPath,
    [
      join(root, "node_modules", "wrangler", "bin", "wrangler.js"),
      "deploy",
      "--env",
      values.env,
      ...(values["dry-run"] ? ["--dry-run", "--outdir", join("dist", values.env)] : []),
      ...(values.var ?? []).flatMap((entry) => ["--var", entry]),
    ],
    { cwd: root, stdio: "inherit" },
  );
  return wrangler.status ?? 1;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`deploy: ${error.message}`);
    process.exit(1);
  },
);
