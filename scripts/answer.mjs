#!/usr/bin/env node
// The README's recipes keep a value from an answer in a shell variable; this prints the
// answer they got, so a refusal is seen rather than swallowed. See USAGE. Runs on any
// Node from 20 (the machine's, as `node scripts/answer.mjs`).
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseOptions, usageError } from "./cli.mjs";

const USAGE = `usage: curl -si … | node scripts/answer.mjs <field>
       curl -si … | node scripts/answer.mjs --cookie <name>

Reads an HTTP answer on stdin (curl -si: status line, headers, body; or curl -s: the body
alone) and prints it on stderr, then prints alone on stdout the JSON body's <field>, or
the value of the cookie <name> the answer sets. When the answer has none, stdout stays
empty and the exit status is 1: the variable a recipe fills is empty and the reason is on
screen.

Exit status: 0 printed, 1 not in the answer, 2 usage.`;

const SHOWN = 2000;

/** Status line (when there is one), header lines and body of what curl printed. */
function splitAnswer(text) {
  let rest = text;
  for (;;) {
    const match = /^(HTTP\/[\d.]+ (\d{3})[^\r\n]*)\r?\n([\s\S]*?)\r?\n\r?\n/.exec(rest);
    if (!match) return { status: undefined, headers: [], body: rest };
    rest = rest.slice(match[0].length);
    // An interim answer (100 Continue) comes before the real one.
    if (!match[2]?.startsWith("1")) {
      return { status: match[1], headers: (match[3] ?? "").split(/\r?\n/), body: rest };
    }
  }
}

function main() {
  const { values, positionals } = parseOptions(
    "answer",
    USAGE,
    process.argv.slice(2),
    { cookie: { type: "string" } },
    { allowPositionals: true },
  );
  const [field, ...extra] = positionals;
  if (extra.length > 0) usageError("answer", USAGE, `unexpected argument '${extra[0]}'`);
  const wants = (field ? 1 : 0) + (values.cookie ? 1 : 0);
  if (wants !== 1) usageError("answer", USAGE, "name one JSON field, or --cookie <name>");
  const text = readFileSync(0, "utf8");
  if (!text.trim()) {
    console.error(
      "answer: no answer on stdin: is the Worker running (npm run dev)? curl -s says nothing when it cannot connect",
    );
    return 1;
  }
  const { status, headers, body } = splitAnswer(text);
  const shown = body.trim().length > SHOWN ? `${body.trim().slice(0, SHOWN)}…` : body.trim();
  console.error([status, shown].filter(Boolean).join("\n"));

  let value;
  if (values.cookie) {
    const prefix = `${values.cookie.toLowerCase()}=`;
    const setCookie = headers
      .map((line) => /^set-cookie:\s*(.*)$/i.exec(line)?.[1] ?? "")
      .find((cookie) => cookie.toLowerCase().startsWith(prefix));
    value = setCookie?.slice(prefix.length).split(";")[0]?.trim() || undefined;
    if (!value) console.error(`answer: no ${values.cookie} cookie set by this answer`);
  } else {
    let json;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const found = json && typeof json === "object" ? json[field] : undefined;
    value = typeof found === "string" || typeof found === "number" ? String(found) : undefined;
    if (value === undefined) console.error(`answer: no ${field} in this answer`);
  }
  if (value === undefined) return 1;
  console.log(value);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) process.exitCode = main();
