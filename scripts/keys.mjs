#!/usr/bin/env node
// Fresh secrets in the formats the Worker reads (README, "Configuration"), and signing-key
// rotation with a custody file: Cloudflare secrets cannot be read back, so the current
// SIGNING_KEYS set of each environment is kept in .dev.vars.<name> (git-ignored, owner-only),
// which `npm run preflight` and `wrangler dev --env <name>` read too. See USAGE.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions, usageError } from "./cli.mjs";

const root = new URL("..", import.meta.url).pathname;

const USAGE = `usage: npm run keys -- generate            a SIGNING_KEYS entry: <kid>:<32 random bytes, base64url>
       npm run keys -- api-key             an API_KEYS entry: 32 random bytes, base64url
       npm run keys -- rotate  --env <name>  step 1: add a new key second, SIGNING_KEYS=<old>,<new>
       npm run keys -- promote --env <name>  step 2: sign with it,         SIGNING_KEYS=<new>,<old>
       npm run keys -- retire  --env <name>  step 4: drop the old key,     SIGNING_KEYS=<new>
       npm run keys -- show    --env <name>  the current set, as kept

rotate, promote and retire keep the set in .dev.vars.<name> (git-ignored, mode 0600; --file
to use another) and print the new SIGNING_KEYS value alone on stdout, ready to pipe:
  npm run -s keys -- rotate --env production | npx wrangler secret put SIGNING_KEYS --env production
The first rotate of an environment starts the set with one key. README, "Key rotation".

Exit status: 0 done, 1 refused (the set is not in the state the step needs), 2 usage.`;

const secret = () => randomBytes(32).toString("base64url");

export function newSigningKey(now = new Date()) {
  const date = now.toISOString().slice(0, 10).replaceAll("-", "");
  return `k-${date}-${randomBytes(3).toString("hex")}:${secret()}`;
}

const kidOf = (entry) => entry.slice(0, entry.indexOf(":"));

/** The SIGNING_KEYS entries kept in the custody file, or none. */
export function readKeySet(file) {
  if (!existsSync(file)) return [];
  const line = readFileSync(file, "utf8")
    .split(/\r?\n/)
    .find((candidate) => /^\s*SIGNING_KEYS\s*=/.test(candidate));
  if (!line) return [];
  const value = line
    .slice(line.indexOf("=") + 1)
    .trim()
    .replace(/^(["'])(.*)\1$/, "$2");
  return value
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/** Writes the set into the custody file, keeping its other lines; owner-only. */
export function writeKeySet(file, keys) {
  const line = `SIGNING_KEYS=${keys.join(",")}`;
  const lines = existsSync(file) ? readFileSync(file, "utf8").split(/\r?\n/) : [];
  const at = lines.findIndex((candidate) => /^\s*SIGNING_KEYS\s*=/.test(candidate));
  if (at >= 0) lines[at] = line;
  else {
    if (lines.length === 0) {
      lines.push(
        "# Secrets of this environment, as set with `wrangler secret put` (git-ignored, owner-only).",
      );
    }
    if (lines.at(-1) === "") lines.pop();
    lines.push(line, "");
  }
  writeFileSync(file, lines.join("\n"), { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** One rotation step: the new set, and what to tell the operator; or a refusal. */
export function rotationStep(step, keys, now = new Date()) {
  if (step === "rotate") {
    if (keys.length === 0) {
      return {
        keys: [newSigningKey(now)],
        next: "First key of this environment. If it already has a SIGNING_KEYS you no longer hold, putting this one replaces it: tokens and sessions signed with the old key are refused from then on.",
      };
    }
    if (keys.length > 1) {
      return { refused: `a rotation is in progress (${keys.length} keys): \`promote\` or \`retire\` first` };
    }
    return {
      keys: [...keys, newSigningKey(now)],
      next: "Step 1: put it, deploy; every isolate now verifies both keys. Then `npm run keys -- promote`.",
    };
  }
  if (step === "promote") {
    if (keys.length < 2) return { refused: "there is no new key to promote: `rotate` first" };
    const newest = keys.at(-1);
    return {
      keys: [newest, ...keys.slice(0, -1)],
      next: "Step 2: put it; new tokens are signed with the new key. Wait out TOKEN_TTL_SECONDS plus the clock tolerance (and SESSION_TTL_SECONDS for open sessions), then `npm run keys -- retire`.",
    };
  }
  if (step === "retire") {
    if (keys.length < 2) return { refused: "there is no old key to retire" };
    const [current] = keys;
    return {
      keys: [current],
      next: `Step 4: put it; tokens signed with ${keys.slice(1).map(kidOf).join(", ")} are now refused (retCode 2).`,
    };
  }
  return { refused: `unknown step ${step}` };
}

function main() {
  const { values, positionals } = parseOptions(
    "keys",
    USAGE,
    process.argv.slice(2),
    { env: { type: "string" }, file: { type: "string" } },
    { allowPositionals: true },
  );
  const [command, ...extra] = positionals;
  if (extra.length > 0) usageError("keys", USAGE, `unexpected argument '${extra[0]}'`);
  if (command === "generate") return console.log(newSigningKey());
  if (command === "api-key") return console.log(secret());
  if (!["rotate", "promote", "retire", "show"].includes(command ?? "")) {
    usageError("keys", USAGE, command ? `unknown command '${command}'` : "missing a command");
  }
  if (!values.env && !values.file) usageError("keys", USAGE, `${command} needs --env <name>`);
  const file = values.file ?? join(root, `.dev.vars.${values.env}`);
  const keys = readKeySet(file);
  if (command === "show") {
    if (keys.length === 0) {
      console.error(`keys: no SIGNING_KEYS kept in ${file}`);
      process.exitCode = 1;
      return;
    }
    console.error(
      `keys: ${keys.length} key(s), signing with ${kidOf(keys[0])}: ${keys.map(kidOf).join(", ")}`,
    );
    return console.log(keys.join(","));
  }
  const step = rotationStep(command, keys);
  if (step.refused) {
    console.error(`keys: ${step.refused} (${file})`);
    process.exitCode = 1;
    return;
  }
  writeKeySet(file, step.keys);
  const target = values.env ? ` --env ${values.env}` : "";
  console.error(
    `keys: kept in ${file} (mode 0600): ${step.keys.map(kidOf).join(", ")}\n` +
      `keys: ${step.next}\n` +
      `keys: set it with: npm run -s keys -- show${target} | npx wrangler secret put SIGNING_KEYS${target}`,
  );
  console.log(step.keys.join(","));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) main();
