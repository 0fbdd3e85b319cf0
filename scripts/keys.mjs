#!/usr/bin/env node
import { spawnSync } from "node:child_process";
// Fresh secrets in the formats the Worker reads (README, "Configuration"), and signing-key
// rotation with a custody file: Cloudflare secrets cannot be read back, so the SIGNING_KEYS
// set each environment holds is kept in .dev.vars.<name> (git-ignored, owner-only), which
// `npm run preflight` and `wrangler dev --env <name>` read too. See USAGE.
//
// The file never moves ahead of Cloudflare: a step first writes what it is about to put as
// pending, puts it with `wrangler secret put`, and only then keeps it. A put that failed (or
// was cut short) leaves the step pending; the same command puts the same set again, which is
// harmless whether or not the first put arrived.
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions, usageError } from "./cli.mjs";
import { wranglerCommand } from "./wrangler.mjs";

const root = new URL("..", import.meta.url).pathname;

const USAGE = `usage: npm run keys -- generate              a SIGNING_KEYS entry: <kid>:<32 random bytes, base64url>
       npm run keys -- api-key [--name <name>]  an API_KEYS entry: 32 random bytes, base64url;
                                             named (<name>:<key>) for API_KEY_SCOPES and the logs
       npm run keys -- rotate  --env <name>  step 1: add a new key second, SIGNING_KEYS=<old>,<new>
       npm run keys -- promote --env <name>  step 2: sign with it,         SIGNING_KEYS=<new>,<old>
       npm run keys -- retire  --env <name>  step 4: drop the old key,     SIGNING_KEYS=<new>
       npm run keys -- show    --env <name>  the set as kept

rotate, promote and retire check the set kept in .dev.vars.<name> (git-ignored, mode 0600;
--file to use another) and refuse, changing nothing, a step it is not ready for. Otherwise
they put the new set with \`wrangler secret put SIGNING_KEYS --env <name>\` and keep it once
wrangler succeeded. If wrangler fails, the step stays pending: run the same command again
(it puts the same set). Each prints the set as kept alone on stdout. README, "Key rotation".

Exit status: 0 done, 1 refused or wrangler failed, 2 usage.`;

const secret = () => randomBytes(32).toString("base64url");

/** An API key's name, as the Worker reads it (src/crypto/api-keys.ts, API_KEY_NAME). */
const API_KEY_NAME = /^[A-Za-z0-9._-]{1,64}$/;

export function newSigningKey(now = new Date()) {
  const date = now.toISOString().slice(0, 10).replaceAll("-", "");
  return `k-${date}-${randomBytes(3).toString("hex")}:${secret()}`;
}

const kidOf = (entry) => entry.slice(0, entry.indexOf(":"));
const kids = (keys) => keys.map(kidOf).join(", ") || "no key";
const entries = (value) =>
  value
    .trim()
    .replace(/^(["'])(.*)\1$/, "$2")
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

// The tool's own notes in the custody file: comments, so wrangler and preflight skip them.
const SIGNING_KEYS_LINE = /^\s*SIGNING_KEYS\s*=/;
const NEWEST_NOTE = /^# keys: newest (\S+)\s*$/;
const PENDING_NOTE = /^# keys: pending (rotate|promote|retire) SIGNING_KEYS=(\S*)\s*$/;
const isNote = (line) => NEWEST_NOTE.test(line) || PENDING_NOTE.test(line);

/**
 * What the custody file keeps: `keys`, the set Cloudflare holds as far as the file knows;
 * `newest`, the kid added last; `pending`, a step whose put has not been confirmed.
 */
export function readCustody(file) {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split(/\r?\n/) : [];
  const keysLine = lines.find((line) => SIGNING_KEYS_LINE.test(line));
  const newest = lines.map((line) => NEWEST_NOTE.exec(line)?.[1]).find(Boolean);
  const pending = lines.map((line) => PENDING_NOTE.exec(line)).find(Boolean);
  return {
    keys: keysLine ? entries(keysLine.slice(keysLine.indexOf("=") + 1)) : [],
    ...(newest && { newest }),
    ...(pending && { pending: { step: pending[1], keys: entries(pending[2]) } }),
  };
}

/** Writes the custody file, keeping its other lines; owner-only. */
function writeCustody(file, { keys, newest, pending }) {
  const lines = (existsSync(file) ? readFileSync(file, "utf8").split(/\r?\n/) : []).filter(
    (line) => !isNote(line),
  );
  while (lines.at(-1) === "") lines.pop();
  if (lines.length === 0) {
    lines.push("# Secrets of this environment, as put with `wrangler secret put` (git-ignored, owner-only).");
  }
  const at = lines.findIndex((line) => SIGNING_KEYS_LINE.test(line));
  const keysLine = `SIGNING_KEYS=${keys.join(",")}`;
  // No set yet (a first rotate still pending): no SIGNING_KEYS line, never an empty one.
  if (keys.length === 0) {
    if (at >= 0) lines.splice(at, 1);
  } else if (at >= 0) lines[at] = keysLine;
  else lines.push(keysLine);
  if (newest && keys.length > 1) lines.push(`# keys: newest ${newest}`);
  if (pending) lines.push(`# keys: pending ${pending.step} SIGNING_KEYS=${pending.keys.join(",")}`);
  writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * The kid added last: the file's note, else the one key with the latest date in a kid of
 * the form this tool makes (k-YYYYMMDD-hex, a set kept by an earlier version); else none.
 */
function newestKid({ keys, newest }) {
  if (newest && keys.some((entry) => kidOf(entry) === newest)) return newest;
  const dated = keys.map((entry) => ({
    kid: kidOf(entry),
    date: /^k-(\d{8})-[0-9a-f]+$/.exec(kidOf(entry))?.[1],
  }));
  if (dated.some((entry) => !entry.date)) return undefined;
  const latest = dated
    .map((entry) => entry.date)
    .sort()
    .at(-1);
  const candidates = dated.filter((entry) => entry.date === latest);
  return candidates.length === 1 ? candidates[0]?.kid : undefined;
}

/**
 * One rotation step on the custody's set: the set to put, or why not. Never drops the
 * signing key (the first), never puts an older key back in front.
 */
export function planStep(step, custody, command) {
  const { keys } = custody;
  const signing = keys[0] && kidOf(keys[0]);
  if (keys.length === 0 && step !== "rotate") {
    return { refused: `no SIGNING_KEYS kept in ${command.file}: \`${command.of("rotate")}\` starts the set` };
  }
  if (keys.length === 1) {
    if (step === "promote") {
      return {
        refused: `there is no new key to promote: ${signing} is the only key and signs. To rotate, \`${command.of("rotate")}\` first`,
      };
    }
    if (step === "retire") {
      return {
        refused: `there is no old key to retire: ${signing} is the only key and signs. To rotate, \`${command.of("rotate")}\` first`,
      };
    }
  }
  if (keys.length <= 1) return { keys: [...keys, newSigningKey()] };

  const newest = newestKid(custody);
  if (!newest) {
    return {
      refused:
        `cannot tell which of ${kids(keys)} is the newest (the set was kept without that note, or edited): ` +
        `add the line \`# keys: newest <kid>\` to ${command.file}, naming the key added last, then run the step again`,
    };
  }
  const older = keys.filter((entry) => kidOf(entry) !== newest);
  const newestSigns = signing === newest;
  if (step === "rotate") {
    return {
      refused: newestSigns
        ? `a rotation is in progress: ${newest} signs and ${kids(older)} still verifies tokens signed before. Once those have expired, \`${command.of("retire")}\`, then rotate`
        : `a rotation is in progress: ${newest} was added and does not sign yet. Next: \`${command.of("promote")}\``,
    };
  }
  if (step === "promote") {
    if (newestSigns) {
      return {
        refused:
          `the newest key ${newest} already signs (it was promoted): promoting again would put ${kids(older)} back in front. ` +
          `Next, once tokens signed with ${kids(older)} have expired: \`${command.of("retire")}\``,
      };
    }
    return { keys: [keys.find((entry) => kidOf(entry) === newest), ...older] };
  }
  if (!newestSigns) {
    return {
      refused:
        `nothing is ready to retire: ${newest} was added but does not sign yet (${signing} signs), ` +
        `and retiring now would drop a key in use. Next: \`${command.of("promote")}\``,
    };
  }
  return { keys: [keys[0]] };
}

/** What to do after a step that was put and kept. */
function nextAfter(step, before, after, command) {
  if (step === "rotate" && before.length === 0) {
    return "First key of this environment. If it held a SIGNING_KEYS you no longer have, this one replaced it: tokens and sessions signed with the old key are refused from then on.";
  }
  if (step === "rotate") {
    return `Step 1 done: every isolate now verifies ${kidOf(after.at(-1))} too. Next: \`${command.of("promote")}\`.`;
  }
  if (step === "promote") {
    return `Step 2 done: new tokens are signed with ${kidOf(after[0])}. Wait out TOKEN_TTL_SECONDS plus the clock tolerance (and SESSION_TTL_SECONDS for open sessions), then \`${command.of("retire")}\`.`;
  }
  const retired = before.filter((entry) => !after.includes(entry));
  return `Step 4 done: tokens signed with ${kids(retired)} are now refused (retCode 2).`;
}

/** `wrangler secret put SIGNING_KEYS --env <env>`, the value on its stdin; its output on stderr. */
function putSigningKeys(value, env) {
  let command;
  try {
    command = wranglerCommand(["secret", "put", "SIGNING_KEYS", "--env", env]);
  } catch (error) {
    return { ok: false, detail: error.message };
  }
  const result = spawnSync(command.file, command.args, { cwd: root, input: value, stdio: ["pipe", 2, 2] });
  if (result.status === 0) return { ok: true };
  return {
    ok: false,
    detail: result.error?.message ?? `wrangler exited with ${result.status ?? result.signal}`,
  };
}

/**
 * The command line, run. `io` replaces the outside world (tests): `putSigningKeys(value,
 * env)`, `stdout(line)`, `stderr(line)`. Returns the exit status.
 */
export async function keysCommand(
  argv,
  {
    putSigningKeys: put = putSigningKeys,
    stdout = (line) => console.log(line),
    stderr = (line) => console.error(line),
  } = {},
) {
  const { values, positionals } = parseOptions(
    "keys",
    USAGE,
    argv,
    { env: { type: "string" }, file: { type: "string" }, name: { type: "string" } },
    { allowPositionals: true },
  );
  const [step, ...extra] = positionals;
  if (extra.length > 0) usageError("keys", USAGE, `unexpected argument '${extra[0]}'`);
  if (values.name !== undefined && step !== "api-key")
    usageError("keys", USAGE, "--name goes with api-key only");
  if (step === "api-key" && values.name !== undefined && !API_KEY_NAME.test(values.name)) {
    usageError("keys", USAGE, "--name must be 1 to 64 letters, digits, '.', '_' or '-' (it is logged)");
  }
  if (step === "generate" || step === "api-key") {
    const apiKey = values.name === undefined ? secret() : `${values.name}:${secret()}`;
    stdout(step === "generate" ? newSigningKey() : apiKey);
    return 0;
  }
  if (!["rotate", "promote", "retire", "show"].includes(step ?? "")) {
    usageError("keys", USAGE, step ? `unknown command '${step}'` : "missing a command");
  }
  if (!values.env) usageError("keys", USAGE, `${step} needs --env <name> (the wrangler environment)`);
  const env = values.env;
  const file = values.file ?? join(root, `.dev.vars.${env}`);
  const fileOption = values.file ? ` --file ${values.file}` : "";
  const command = { file, of: (name) => `npm run keys -- ${name} --env ${env}${fileOption}` };
  const custody = readCustody(file);
  // Whatever happens, stdout carries the set as kept: a pipe into `wrangler secret put`
  // left over from an earlier recipe then puts what Cloudflare already holds.
  const printKept = () => {
    const kept = readCustody(file).keys;
    if (kept.length > 0) stdout(kept.join(","));
  };

  if (step === "show") {
    if (custody.keys.length === 0) {
      stderr(
        `keys: no SIGNING_KEYS kept in ${file}` +
          (custody.pending
            ? `; an unfinished \`${custody.pending.step}\` is pending: \`${command.of(custody.pending.step)}\``
            : ""),
      );
      return 1;
    }
    const newest = newestKid(custody);
    stderr(
      `keys: ${custody.keys.length} key(s), signing with ${kidOf(custody.keys[0])}: ${kids(custody.keys)}` +
        (custody.keys.length > 1 && newest ? `; newest ${newest}` : "") +
        (custody.pending
          ? `; an unfinished \`${custody.pending.step}\` is pending: \`${command.of(custody.pending.step)}\``
          : ""),
    );
    printKept();
    return 0;
  }

  let target = custody.pending?.keys;
  if (custody.pending && custody.pending.step !== step) {
    stderr(
      `keys: an unfinished \`${custody.pending.step}\` is pending (SIGNING_KEYS=${kids(custody.pending.keys)}): ` +
        `its \`wrangler secret put\` failed or was cut short, so Cloudflare holds either the set it held before (kept here: ${kids(custody.keys)}) or that one. ` +
        `Finish it first with \`${command.of(custody.pending.step)}\` (it puts the same set again, harmless either way)`,
    );
    printKept();
    return 1;
  }
  if (!target) {
    const plan = planStep(step, custody, command);
    if (plan.refused) {
      stderr(`keys: refused, nothing changed: ${plan.refused}`);
      printKept();
      return 1;
    }
    target = plan.keys;
    writeCustody(file, { ...custody, pending: { step, keys: target } });
  }

  const result = await put(target.join(","), env);
  if (!result.ok) {
    stderr(
      `keys: \`wrangler secret put SIGNING_KEYS --env ${env}\` failed (${result.detail}). ${file} still keeps ` +
        `${kids(custody.keys)}, the set Cloudflare held before, with this \`${step}\` pending ` +
        `(SIGNING_KEYS=${kids(target)}). Fix the cause (\`npx wrangler login\`, the network) and run the same command again: ` +
        `\`${command.of(step)}\` puts the same set, which is harmless whether or not this put arrived`,
    );
    printKept();
    return 1;
  }
  const newest = step === "rotate" ? kidOf(target.at(-1)) : step === "promote" ? kidOf(target[0]) : undefined;
  writeCustody(file, { keys: target, newest });
  stderr(
    `keys: Cloudflare holds SIGNING_KEYS=${kids(target)} (--env ${env}), kept in ${file} (mode 0600)\n` +
      `keys: ${nextAfter(step, custody.keys, target, command)}`,
  );
  printKept();
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  keysCommand(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error) => {
      console.error(`keys: ${error.message}`);
      process.exit(1);
    },
  );
}
