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

/**
 * Checks a --url: an absolute URL of one of `schemes` ("localhost:8787" parses as a URL of
 * scheme "localhost:", so a missing scheme is looked for first). `hint`: what to write when
 * the scheme is missing, given the URL as typed.
 */
export function checkUrlOption(tool, usage, url, { schemes = ["http:", "https:"], hint }) {
  if (!/^[a-z][a-z\d+.-]*:\/\//i.test(url)) {
    usageError(tool, usage, `--url ${url} has no scheme: ${hint(url)}`);
  }
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    usageError(tool, usage, `--url ${url} is not a URL`);
  }
  if (!schemes.includes(parsed.protocol)) {
    const allowed = schemes.map((scheme) => `${scheme}//`).join(" or ");
    usageError(tool, usage, `--url must start with ${allowed}, not ${parsed.protocol}//`);
  }
  return parsed;
}

/** Trusts an extra CA (PEM text) in this process's fetch, which reads NODE_EXTRA_CA_CERTS at start-up only. */
export async function trustForFetch(ca) {
  const { setDefaultCACertificates, getCACertificates } = await import("node:tls");
  setDefaultCACertificates?.([...getCACertificates("default"), ca]);
}
