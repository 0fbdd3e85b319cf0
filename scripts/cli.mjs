// Shared by the project's scripts: the same answer to --help (usage, exit 0) and to an
// unknown option or stray argument (the reason and the usage, exit 2).
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

/**
 * parseArgs with `--help`/`-h` added. `allowPositionals`: whether bare arguments
 * (subcommands, URLs) are accepted.
 */
export function parseOptions(tool, usage, argv, options, { allowPositionals = false } = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals,
      strict: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    usageError(tool, usage, parseArgsReason(error));
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  return parsed;
}

/** Prints what is wrong and the usage, and exits 2. */
export function usageError(tool, usage, reason) {
  console.error(`${tool}: ${reason}\n\n${usage}`);
  process.exit(2);
}

/**
 * parseArgs's complaint, without its advice about positionals after `--` (this tool's
 * usage follows instead): "unknown option '--x'", "unexpected argument 'y'", …
 */
function parseArgsReason(error) {
  const first = error.message.split(/\.\s|\n/)[0] ?? error.message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** The PEM text of a --ca file; a file that cannot be read or is no PEM certificate is a usage error. */
export function readCaCertificate(tool, usage, file) {
  let text;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    usageError(tool, usage, `cannot read --ca ${file} (${error.code ?? error.message})`);
  }
  try {
    if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new Error("no PEM certificate");
    new X509Certificate(text);
  } catch {
    usageError(
      tool,
      usage,
      `--ca ${file} is not a PEM certificate (-----BEGIN CERTIFICATE----- …): pass the CA's certificate, for example .certs/ca.pem with npm run dev:https`,
    );
  }
  return text;
}
