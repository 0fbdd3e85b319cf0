#!/usr/bin/env node
// `npm run preflight -- --env <name> [--var KEY:VALUE ...]`: checks a named environment
// before it goes live, exactly as the deployed Worker will parse it, and lists every
// problem at once. See USAGE below.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { parse as parseToml } from "smol-toml";
import { parseOptions, usageError } from "./cli.mjs";
import { importSource } from "./import-source.mjs";
import { readCustody } from "./keys.mjs";
import { wranglerCommand } from "./wrangler.mjs";

export const root = new URL("..", import.meta.url).pathname;

export const USAGE = `usage: npm run preflight -- --env <name> [--var KEY:VALUE ...] [--config wrangler.toml] [--offline]

Checks the named environment of wrangler.toml as the deployed Worker will see it: its own
[env.<name>.vars] (named environments inherit no vars or bindings from the top level),
then .dev.vars.<name> when present, then each --var; parsed by the Worker's own parser.
Lists every problem at once: missing or invalid variables, the committed development
secrets, a secret written under any [vars] table, an ENVIRONMENT other than the
environment's name (production, staging), the example domain, bindings not declared for
the environment, KV namespaces.
Secrets (SIGNING_KEYS, API_KEYS) given with --var or in .dev.vars.<name> are checked in
full; otherwise their existence is checked with \`wrangler secret list --env <name>\` when
wrangler is logged in (--offline skips that).

Exit status: 0 ready to deploy, 1 at least one error, 2 usage.`;

/** Secrets only wrangler knows: a stand-in lets the parser check everything else. */
const PLACEHOLDERS = {
  SIGNING_KEYS: `preflight-placeholder:${Buffer.alloc(32, 0x5a).toString("base64url")}`,
  API_KEYS: "preflight-placeholder-api-key-0000",
};

/**
 * API_KEYS as the placeholder stands in for it when the real keys are not here: one named
 * entry per name API_KEY_SCOPES uses, so that the scopes are checked for everything but the
 * names themselves, which only the real secret holds.
 */
function placeholderApiKeys(scopesJson) {
  let names = [];
  try {
    const scopes = JSON.parse(String(scopesJson ?? "{}"));
    if (scopes && typeof scopes === "object" && !Array.isArray(scopes)) {
      names = Object.keys(scopes).filter((name) => /^[A-Za-z0-9._-]{1,64}$/.test(name));
    }
  } catch {
    // API_KEY_SCOPES itself is reported by the parser.
  }
  return [PLACEHOLDERS.API_KEYS, ...names.map((name) => `${name}:${PLACEHOLDERS.API_KEYS}`)].join(",");
}

/** Documentation domains (RFC 2606): an example left in place cannot serve CEC. */
const EXAMPLE_DOMAIN = /(^|\.)example\.(com|org|net)$/i;

/**
 * The Worker's configuration module (src/config/config.ts: the parser, SECRET_NAMES,
 * VARIABLE_NAMES), bundled once per process so this Node process runs the very same code.
 */
let parser;
export function loadParser() {
  parser ??= bundleParser();
  return parser;
}

function bundleParser() {
  return importSource("src/config/config.ts", "preflight");
}

/** KEY=VALUE lines as wrangler reads .dev.vars: # comments, optional quotes. */
export function parseDotVars(text) {
  const vars = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!match) continue;
    const [, name, rest] = match;
    const quoted = /^(["'])(.*)\1$/.exec(rest);
    vars[name] = quoted ? quoted[2] : rest.replace(/\s+#.*$/, "");
  }
  return vars;
}

const describeRoute = (route) => (typeof route === "string" ? route : (route?.pattern ?? ""));
const routeHost = (pattern) => pattern.replace(/^https?:\/\//, "").split(/[/:]/)[0] ?? "";

/** Checks wrangler.toml's own settings for the environment: routes, bindings, KV. */
function checkWranglerConfig(config, name, environmentConfig, report) {
  const routes = [
    ...(environmentConfig.routes ?? []),
    ...(environmentConfig.route ? [environmentConfig.route] : []),
  ];
  for (const route of routes) {
    const pattern = describeRoute(route);
    if (EXAMPLE_DOMAIN.test(routeHost(pattern))) {
      report.error(
        "routes:",
        `${pattern} is the example domain: set [env.${name}] routes to your own domain (a zone on your Cloudflare account)`,
      );
    }
  }
  if (routes.length === 0 && environmentConfig.workers_dev !== true) {
    report.warning(
      "routes:",
      `[env.${name}] has no routes: the Worker would be reachable on workers.dev only`,
    );
  }

  // The top level declares every binding the Worker and its tests use; a named environment inherits none.
  for (const kind of ["kv_namespaces", "ratelimits"]) {
    const own = environmentConfig[kind] ?? [];
    const key = kind === "ratelimits" ? "name" : "binding";
    for (const binding of config[kind] ?? []) {
      if (!own.some((entry) => entry[key] === binding[key])) {
        report.error(
          binding[key],
          `is not declared for this environment: add [[env.${name}.${kind}]] with ${key} = "${binding[key]}" (bindings are not inherited)`,
        );
      }
    }
  }
  const ownObjects = environmentConfig.durable_objects?.bindings ?? [];
  for (const binding of config.durable_objects?.bindings ?? []) {
    if (!ownObjects.some((entry) => entry.name === binding.name && entry.class_name === binding.class_name)) {
      report.error(
        binding.name,
        `is not declared for this environment: add [[env.${name}.durable_objects.bindings]] with name = "${binding.name}" and class_name = "${binding.class_name}" (bindings are not inherited)`,
      );
    }
  }
  const migrated = (environmentConfig.migrations ?? config.migrations ?? []).flatMap((migration) => [
    ...(migration.new_sqlite_classes ?? []),
    ...(migration.new_classes ?? []),
  ]);
  for (const binding of ownObjects) {
    if (!migrated.includes(binding.class_name)) {
      report.error(
        binding.name,
        `its class ${binding.class_name} has no migration: add [[migrations]] with new_sqlite_classes = ["${binding.class_name}"]`,
      );
    }
  }
  for (const namespace of environmentConfig.kv_namespaces ?? []) {
    if (!namespace.id) {
      report.note(
        namespace.binding,
        "KV namespace has no id: the first deploy creates one and links it; to pin it, `wrangler kv namespace create " +
          `${namespace.binding} --env ${name}\` and set its id under [[env.${name}.kv_namespaces]]`,
      );
      continue;
    }
    for (const [other, otherConfig] of Object.entries(config.env ?? {})) {
      if (other === name) continue;
      if ((otherConfig.kv_namespaces ?? []).some((entry) => entry.id === namespace.id)) {
        report.error(
          namespace.binding,
          `KV namespace id is also used by [env.${other}]: environments must not share token records`,
        );
      }
    }
  }
}

/** Asks wrangler which secrets the deployed environment has; undefined when it cannot tell. */
async function listSecrets(name, file) {
  try {
    const command = wranglerCommand(["secret", "list", "--config", file, "--env", name, "--format", "json"]);
    // wrangler reads `.env` where it runs: beside the configuration checked.
    const { stdout } = await promisify(execFile)(command.file, command.args, {
      cwd: dirname(file),
      timeout: 30_000,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1" },
    });
    return { names: JSON.parse(stdout).map((secret) => secret.name) };
  } catch (error) {
    const said = `${error.stderr ?? ""}${error.stdout ?? ""}`;
    const reason = /CLOUDFLARE_API_TOKEN|not logged in|wrangler login/i.test(said)
      ? "wrangler is not logged in"
      : /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|fetch failed|network/i.test(said)
        ? "Cloudflare's API cannot be reached"
        : (said.split("\n").find((line) => line.trim()) ?? error.message).trim();
    return { reason };
  }
}

/**
 * Checks one environment. Returns every finding: `error`s stop a deployment, `warning`s
 * and `note`s do not.
 */
export async function preflight({ env: name, vars: extraVars = {}, configPath, offline = false }) {
  const findings = [];
  const report = {
    error: (subject, message) => findings.push({ level: "error", subject, message }),
    warning: (subject, message) => findings.push({ level: "warning", subject, message }),
    note: (subject, message) => findings.push({ level: "note", subject, message }),
  };
  const file = resolve(configPath ?? join(root, "wrangler.toml"));
  const config = parseToml(readFileSync(file, "utf8"));
  const environmentConfig = config.env?.[name];
  if (!environmentConfig) {
    const known = Object.keys(config.env ?? {});
    report.error(
      "--env:",
      `no [env.${name}] in ${file}${known.length ? `; environments: ${known.join(", ")}` : ""}`,
    );
    return findings;
  }

  checkWranglerConfig(config, name, environmentConfig, report);

  // What the deployed Worker sees: its own vars only (no inheritance), the secrets kept
  // locally in .dev.vars.<name> (git-ignored; `npm run keys -- rotate` writes SIGNING_KEYS
  // there), then --var.
  const dotVarsName = `.dev.vars.${name}`;
  const dotVarsFile = join(dirname(file), dotVarsName);
  const dotVars = existsSync(dotVarsFile) ? parseDotVars(readFileSync(dotVarsFile, "utf8")) : {};
  const pendingKeys = readCustody(dotVarsFile).pending;
  if (pendingKeys) {
    report.warning(
      "SIGNING_KEYS",
      `an unfinished \`npm run keys -- ${pendingKeys.step} --env ${name}\` is pending in ${dotVarsName}: Cloudflare may hold that set rather than the one kept; run it again to finish it`,
    );
  }
  const { SECRET_NAMES, VARIABLE_NAMES, parseConfig, ConfigError } = await loadParser();
  // A secret in any vars table is committed to git and deployed as plain text, whichever
  // environment is being checked.
  const varsTables = [
    ["[vars]", config.vars, undefined],
    ...Object.entries(config.env ?? {}).map(([other, otherConfig]) => [
      `[env.${other}.vars]`,
      otherConfig.vars,
      other,
    ]),
  ];
  for (const [table, tableVars, tableEnvironment] of varsTables) {
    for (const secret of SECRET_NAMES.filter((secretName) => Object.hasOwn(tableVars ?? {}, secretName))) {
      report.error(
        secret,
        `is a secret but ${table} sets it: wrangler.toml is committed to git and its vars are deployed as plain text. ` +
          `Remove it there and set it with \`wrangler secret put ${secret}${tableEnvironment ? ` --env ${tableEnvironment}` : ""}\`` +
          (tableEnvironment ? "" : " (locally, in .dev.vars)"),
      );
    }
  }
  for (const variable of Object.keys(environmentConfig.vars ?? {})) {
    if (!VARIABLE_NAMES.includes(variable) && !SECRET_NAMES.includes(variable)) {
      report.warning(
        variable,
        `under [env.${name}.vars] is not a variable the Worker reads (a misspelling?): it is ignored; the names are in README, "Configuration"`,
      );
    }
  }
  const localSecrets = {};
  for (const [variable, value] of Object.entries(dotVars)) {
    if (SECRET_NAMES.includes(variable)) localSecrets[variable] = value;
    else if (!(variable in extraVars)) {
      report.warning(
        variable,
        `in ${dotVarsName} is used by \`wrangler dev --env ${name}\` only and is never deployed: ignored here; put it under [env.${name}.vars]`,
      );
    }
  }
  const vars = { ...(environmentConfig.vars ?? {}), ...localSecrets, ...extraVars };

  const environment = String(vars.ENVIRONMENT ?? "production").trim() || "production";
  if (environment === "development" || environment === "test") {
    report.error(
      "ENVIRONMENT",
      `is ${environment}, which runs on the committed development secrets: set ENVIRONMENT = "production" (or "staging") under [env.${name}.vars]`,
    );
  } else if ((name === "production" || name === "staging") && environment !== name) {
    // ENVIRONMENT decides what a deployment refuses (the playground, http origins, the
    // development secrets): [env.production] must not run as staging, nor the reverse.
    const said =
      vars.ENVIRONMENT === undefined ? "is not set, so it is production" : `is "${vars.ENVIRONMENT}"`;
    report.error(
      "ENVIRONMENT",
      `${said} in [env.${name}], which would deploy as another environment: set ENVIRONMENT = "${name}" under [env.${name}.vars]`,
    );
  }

  const missingSecrets = SECRET_NAMES.filter((secret) => vars[secret] === undefined);
  if (missingSecrets.length > 0) {
    const listed = offline ? { reason: "--offline" } : await listSecrets(name, file);
    if (listed.names) {
      for (const secret of missingSecrets) {
        if (!listed.names.includes(secret)) {
          report.error(secret, `is not set (set it with \`wrangler secret put ${secret} --env ${name}\`)`);
        }
      }
    } else {
      report.warning(
        "secrets:",
        `could not check that ${missingSecrets.join(" and ")} exist (${listed.reason}); ` +
          `\`wrangler secret list --env ${name}\` when logged in, or pass them with --var to check their format`,
      );
    }
    for (const secret of missingSecrets) vars[secret] = PLACEHOLDERS[secret];
    if (missingSecrets.includes("API_KEYS")) vars.API_KEYS = placeholderApiKeys(vars.API_KEY_SCOPES);
  }

  try {
    const {
      consistency,
      apiKeys,
      tenantSpaceIds,
      environment: parsedEnvironment,
    } = await parseConfig(vars, {
      wranglerEnvironment: name,
    });
    // A partner's deployment: one customer's leaked key must not speak for the others.
    if (
      parsedEnvironment === "production" &&
      tenantSpaceIds.size > 1 &&
      !missingSecrets.includes("API_KEYS")
    ) {
      for (const key of apiKeys.keys.filter((holder) => holder.tenants === undefined)) {
        report.warning(
          "API_KEYS",
          `${key.name === undefined ? `entry ${key.index} (unnamed)` : `the key named ${key.name}`} acts for every one of the ${tenantSpaceIds.size} tenants served: if it is one customer's, name it (name:key) and scope it in API_KEY_SCOPES (README, "For partners")`,
        );
      }
    }
    // The Worker cannot know what ran before it: say what a switch would cost, every time.
    report.note(
      "CONSISTENCY",
      `${consistency.mode}, epoch "${consistency.epoch}". If [env.${name}] last ran another epoch (another CONSISTENCY or CONSISTENCY_EPOCH), deploying switches it: every token in flight (up to TOKEN_TTL_SECONDS old) and every open web-channel session is refused from then on (retCode 6) and must be issued or opened again, and signed-in users sign in again (an identity token from before CONSISTENCY_EPOCH gets retCode 18: a user revoked in the other mode was revoked in a store this one never reads). Give every switch a new CONSISTENCY_EPOCH (its UTC date or time, not later than the deployment) and make it at a quiet hour (docs/consistency.md, "Switching modes")`,
    );
    if (consistency.startedAt === undefined && consistency.mode === "strict") {
      report.warning(
        "CONSISTENCY_EPOCH",
        "is not set: if this deployment ran eventual mode before, identity tokens from sign-ins before the switch still get tokens, and a user revoked in eventual mode could sign back in with one. Set it to the switch's UTC date or time",
      );
    }
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) {
      // A secret reported missing by wrangler is already listed; a variable may have several problems.
      const listedMissing = missingSecrets.includes(problem.variable) && /^is not set/.test(problem.reason);
      const alreadyListed = findings.some(
        (finding) => finding.level === "error" && finding.subject === problem.variable && listedMissing,
      );
      if (!alreadyListed) report.error(problem.variable, problem.reason);
    }
  }
  return findings;
}

export function formatFindings(name, findings) {
  const lines = findings.map(({ level, subject, message }) => `${level.padEnd(7)} ${subject} ${message}`);
  const errors = findings.filter((finding) => finding.level === "error").length;
  const warnings = findings.filter((finding) => finding.level === "warning").length;
  lines.push(
    errors === 0
      ? `preflight: --env ${name} is ready to deploy${warnings ? ` (${warnings} warning${warnings > 1 ? "s" : ""})` : ""}`
      : `preflight: --env ${name} has ${errors} error${errors > 1 ? "s" : ""}: fix them before deploying`,
  );
  return lines.join("\n");
}

/** Parses the command line; returns the options or exits with the usage. */
export function preflightOptions(argv) {
  const { values } = parseOptions("preflight", USAGE, argv, {
    env: { type: "string" },
    var: { type: "string", multiple: true },
    config: { type: "string" },
    offline: { type: "boolean" },
  });
  const vars = {};
  for (const entry of values.var ?? []) {
    const separator = entry.indexOf(":");
    if (separator < 1)
      usageError("preflight", USAGE, `--var takes KEY:VALUE, not ${JSON.stringify(entry.slice(0, 40))}`);
    vars[entry.slice(0, separator)] = entry.slice(separator + 1);
  }
  if (!values.env) usageError("preflight", USAGE, "missing --env <name>");
  return { env: values.env, vars, configPath: values.config, offline: values.offline ?? false };
}

async function main() {
  const options = preflightOptions(process.argv.slice(2));
  const findings = await preflight(options);
  console.log(formatFindings(options.env, findings));
  return findings.some((finding) => finding.level === "error") ? 1 : 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`preflight: ${error.message}`);
      process.exit(1);
    },
  );
}
