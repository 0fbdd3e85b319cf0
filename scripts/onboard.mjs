#!/usr/bin/env node
// `npm run onboard -- --url <base> --api-key <key> --tenant <id> [--ca <pem>] [--out <dir>]`
// Proves a deployment the way CEC will call it and writes the handoff for CEC's operations
// administrator: the certificates the server presents (CER, PEM beside) and a README.md
// with the validate URL, the tenant, the certificates to trust and every check's result.
// Reuses cert-cer.mjs (the TLS handshake, the files) and cec.mjs (the round trip). The API
// key and the tokens are never printed or written.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_PATH, explainFetchError, readAnswer, roundTrip, stepLine } from "./cec.mjs";
import { hostFileStem, inspectTls, writeChain } from "./cert-cer.mjs";
import { checkUrlOption, parseOptions, readCaCertificate, trustForFetch, usageError } from "./cli.mjs";

const USAGE = `usage: npm run onboard -- --url https://HOST[:PORT] --api-key KEY --tenant ID [--ca ca.pem] [--out DIR] [--clock-tolerance S]

Proves a deployment as CEC will call it, then writes the handoff for CEC's operations
administrator in --out: each certificate the server presents as CER (DER) and PEM, and
README.md with the validate URL to configure, the tenant, which certificate CEC should
trust, and every check's result. Checks: the certificate chain verifies for the host; TLS
1.2 or later; the validate path (from the server's /openapi.json); the server's clock (its
Date header) against this machine's; plain http:// on the validate path refused or
redirected; and the round trip: issue with the API key, validate (retCode 0), tampered
(2), another user (5), revoke, validate again (6). The API key and tokens are never
printed or written.

--url              the deployment's origin, https:// only (CEC calls over HTTPS)
--api-key          an API key of the deployment (API_KEYS), to issue and revoke a token
--tenant           the tenant space id CEC will send (one of TENANT_SPACE_IDS)
--ca               a PEM file of an extra CA to trust (.certs/ca.pem with npm run dev:https)
--out              the handoff folder (default cec-handoff, git-ignored); an earlier handoff
                   in it is replaced, a folder holding anything else is refused
--clock-tolerance  the seconds of skew allowed: the deployment's CLOCK_TOLERANCE_SECONDS (default 5)

Exit status: 0 every check passed, 1 a check failed (what to fix is printed and in
README.md, marked FAILED), 2 usage.`;

const TOOL = "onboard";
const DEFAULT_OUT = "cec-handoff";
/** The handoff's first line: how a folder is recognised as an earlier handoff, safe to replace. */
const HANDOFF_HEADING = "# CEC handoff";
/** Certificate files as writeChain names them. */
const CERTIFICATE_FILE = /-\d+-(leaf|intermediate|ca|root)\.(cer|pem)$/;
/** TLS 1.0 and 1.1 are deprecated (RFC 8996). */
const TLS_VERSIONS = ["TLSv1.2", "TLSv1.3"];
/** How long a plain-HTTP probe waits: a port that drops packets serves no HTTP either. */
const PLAIN_HTTP_TIMEOUT_MS = 5000;

/** The validate route in the Worker's OpenAPI document: its only POST outside /v1/ (where VALIDATE_PATH must be). */
export function validatePathOf(document) {
  const posts = Object.entries(document?.paths ?? {}).filter(
    ([path, item]) => !path.startsWith("/v1/") && item?.post,
  );
  return posts.length === 1 ? posts[0][0] : undefined;
}

/**
 * The server's clock against this machine's. `date`: the Date header; `sentAt`/`receivedAt`:
 * this machine's clock around the request. The header counts whole seconds, so the server
 * read [date, date + 1 s) while this machine read [sentAt, receivedAt]: only a gap between
 * those beyond the tolerance is a certain skew.
 */
export function clockCheck(date, sentAt, receivedAt, toleranceSeconds) {
  if (!date) {
    return {
      ok: true,
      detail: "no Date header (a local wrangler dev sends none; Cloudflare's edge does): not compared",
    };
  }
  const server = Date.parse(date);
  if (Number.isNaN(server)) {
    return {
      ok: false,
      detail: `Date header ${JSON.stringify(date)} is not an HTTP date: is --url this Worker?`,
    };
  }
  const gapMs = Math.max(0, server - receivedAt, sentAt - (server + 999));
  const skew = (server + 500 - (sentAt + receivedAt) / 2) / 1000;
  const said = `server ${skew >= 0 ? "ahead" : "behind"} by about ${Math.abs(skew).toFixed(1)} s (Date: ${date})`;
  if (gapMs <= toleranceSeconds * 1000) {
    return { ok: true, detail: `${said}, within the tolerance of ${toleranceSeconds} s` };
  }
  return {
    ok: false,
    detail:
      `${said}, beyond the tolerance of ${toleranceSeconds} s (CLOCK_TOLERANCE_SECONDS): tokens would be ` +
      "refused as not yet valid or expired. Check this machine's clock first (timedatectl: NTP " +
      "synchronized?); Cloudflare's edge keeps time. If the deployment allows more, pass its --clock-tolerance",
  };
}

/** One plain-HTTP request: refused (403 retCode 16, or no HTTP answer at all) or redirected to https:// passes. */
async function probePlainHttp(url, method, tenant) {
  const port = url.port || "80";
  let response;
  try {
    response = await fetch(url, {
      method,
      redirect: "manual",
      signal: AbortSignal.timeout(PLAIN_HTTP_TIMEOUT_MS),
      // A made-up token: whatever answers, nothing secret crossed in the clear.
      ...(method === "POST" && {
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          Token: "plain-http-probe",
          userName: "probe",
          userId: "probe",
          tenantSpaceId: tenant,
        }),
      }),
    });
  } catch (error) {
    const code = error.cause?.code ?? error.name;
    if (code === "ECONNREFUSED") return { ok: true, detail: `refused (nothing listens on port ${port})` };
    // An HTTPS-only port (`wrangler dev` over HTTPS) answers plain HTTP with TLS bytes or hangs up.
    if (/^HPE_/.test(code) || code === "UND_ERR_SOCKET" || code === "ECONNRESET") {
      return { ok: true, detail: `refused (port ${port} speaks only TLS: no HTTP answer)` };
    }
    if (code === "TimeoutError") {
      return {
        ok: true,
        detail: `refused (no answer on port ${port} within ${PLAIN_HTTP_TIMEOUT_MS / 1000} s)`,
      };
    }
    return { ok: false, detail: explainFetchError(error, url.href) };
  }
  if (response.status >= 300 && response.status < 400) {
    const location = response.headers.get("location") ?? "";
    await response.body?.cancel();
    return location.startsWith("https://")
      ? { ok: true, detail: `redirected (HTTP ${response.status} to https://)` }
      : { ok: false, detail: `HTTP ${response.status} to ${JSON.stringify(location)}, not to https://` };
  }
  const answer = await readAnswer(response);
  if (answer.status === 403 && answer.body?.retCode === 16)
    return { ok: true, detail: `refused (${answer.summary})` };
  return { ok: false, detail: `served: ${answer.summary}` };
}

async function plainHttpCheck(origin, validatePath, tenant) {
  const url = new URL(validatePath, origin);
  url.protocol = "http:";
  const post = await probePlainHttp(url, "POST", tenant);
  const get = await probePlainHttp(url, "GET", tenant);
  const detail = `${url.href}: POST ${post.detail}; GET ${get.detail}`;
  if (post.ok && get.ok) return { ok: true, detail };
  return {
    ok: false,
    detail:
      `${detail}. A CEC configured with http:// would send tokens in the clear: in production and staging ` +
      "the Worker refuses plain HTTP (ENVIRONMENT=production or staging); check ENVIRONMENT, and that " +
      "nothing in front of the Worker answers http:// itself",
  };
}

/** Why the chain does not verify, and what to do. */
function untrustedDetail(host, code) {
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `the certificate is not for ${host} (${code}): is --url the deployment's custom domain?`;
  }
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID") {
    return `the certificate is out of its validity period (${code}): renew it, or check this machine's clock`;
  }
  return (
    `the chain does not verify for ${host} (${code}): for a private CA pass it with --ca (for example ` +
    "--ca .certs/ca.pem with npm run dev:https); a public server must send its intermediate certificates"
  );
}

/** The TLS handshake failed outright: what to do. */
function handshakeFailure(error, origin) {
  const code = error.code ?? "";
  if (/UNSUPPORTED_PROTOCOL|TLSV1_ALERT_PROTOCOL_VERSION/.test(code)) {
    return `${origin} offers no TLS 1.2 or later (${code}): set the minimum TLS version to 1.2`;
  }
  if (error.message === "timed out") return `no TLS handshake with ${origin} (timed out): is --url right?`;
  return explainFetchError(error, origin);
}

/**
 * Every check, in order, each `{ name, ok, detail }` handed to `report` as it ends (the
 * API key and tokens scrubbed from its detail). Stops where the rest cannot run (no TLS, an
 * untrusted chain, no answer at all, no token issued): `stopped`. Returns the checks, the
 * certificates (X509Certificate, leaf first, the root included) and the validate path.
 */
export async function prove({ origin, apiKey, tenant, ca, toleranceSeconds }, report) {
  const checks = [];
  const check = (name, { ok, detail }) => {
    checks.push({ name, ok, detail: scrub(detail ?? "", apiKey) });
    report(checks.at(-1));
    return ok;
  };
  const host = new URL(origin).hostname;
  // `stopped`: the checks after the last one could not run.
  const result = { checks, certificates: [], validatePath: DEFAULT_PATH, stopped: true };

  let tls;
  try {
    tls = await inspectTls(origin, { ca });
  } catch (error) {
    check("TLS handshake", { ok: false, detail: handshakeFailure(error, origin) });
    return result;
  }
  result.certificates = tls.root ? [...tls.chain, tls.root] : tls.chain;
  const anchor = result.certificates.at(-1)?.subject.replace(/\n/g, ", ");
  const trusted = check("certificate chain", {
    ok: tls.authorized,
    detail: tls.authorized
      ? `verifies for ${host} up to ${anchor}`
      : untrustedDetail(host, tls.authorizationError),
  });
  check("TLS version", {
    ok: TLS_VERSIONS.includes(tls.protocol),
    detail: TLS_VERSIONS.includes(tls.protocol)
      ? tls.protocol
      : `${tls.protocol}: CEC needs TLS 1.2 or later; set the minimum TLS version to 1.2`,
  });
  // fetch refuses what the chain check refused: every later check would fail on the same cause.
  if (!trusted) return result;

  try {
    const sentAt = Date.now();
    const response = await fetch(new URL("/openapi.json", origin));
    const receivedAt = Date.now();
    const date = response.headers.get("date");
    const answer = await readAnswer(response);
    const found = answer.status === 200 ? validatePathOf(answer.body) : undefined;
    if (found) result.validatePath = found;
    check("validate path (from /openapi.json)", {
      ok: Boolean(found),
      detail: found
        ? found
        : `GET /openapi.json: ${answer.summary}: is --url this Worker's address? (checking ${DEFAULT_PATH})`,
    });
    check("server clock (Date header)", clockCheck(date, sentAt, receivedAt, toleranceSeconds));
    check("plain HTTP on the validate path", await plainHttpCheck(origin, result.validatePath, tenant));
    const { finished } = await roundTrip(origin, result.validatePath, apiKey, tenant, (step) =>
      check(`round trip: ${step.name}`, step),
    );
    result.stopped = !finished;
  } catch (error) {
    if (!(error instanceof TypeError && error.message === "fetch failed")) throw error;
    check("HTTPS request", { ok: false, detail: explainFetchError(error, origin) });
  }
  return result;
}

/** The API key and anything shaped like a token (a JWS) out of a text. */
export function scrub(text, apiKey) {
  // A key this short cannot be one (API_KEYS wants 16 characters); blanking it would garble the text.
  const withoutKey = apiKey.length >= 8 ? text.replaceAll(apiKey, "[API key]") : text;
  return withoutKey.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, "[token]");
}

const ROLES = {
  leaf: "the server's own certificate (leaf)",
  intermediate: "intermediate CA",
  ca: "issuing CA (its root was not found)",
  root: "root CA",
};

const utc = (date) => `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
/** X509Certificate's "Dec  2 01:00:29 2026 GMT", as the other dates here. */
const certificateDate = (text) => (Number.isNaN(Date.parse(text)) ? text : utc(new Date(text)));
const cell = (text) => String(text).replace(/\|/g, "\\|");
const list = (files) => files.map((file) => `\`${file}\``).join(", ");

function trustAdvice(entries, host) {
  const roots = entries.filter((entry) => entry.role === "root" || entry.role === "ca");
  const intermediates = entries.filter((entry) => entry.role === "intermediate");
  const leaf = entries.find((entry) => entry.role === "leaf");
  const lines = [];
  if (roots.length > 0) {
    lines.push(
      `- **Trust ${list(roots.map((entry) => entry.name))}** (${roots.map((entry) => entry.subject).join("; ")})` +
        (intermediates.length > 0
          ? `, and add ${list(intermediates.map((entry) => entry.name))} (intermediate) where CEC asks for the whole chain.`
          : "."),
    );
  } else {
    lines.push(
      "- The server presented no issuing CA and none was found: ask the certificate's issuer " +
        `(${leaf?.issuer ?? "unknown"}) for its CA certificate and trust that.`,
    );
  }
  if (leaf) {
    lines.push(
      `- Not \`${leaf.name}\` alone: it is today's certificate of ${host}, listed so its fingerprint can be ` +
        "compared. Cloudflare renews edge certificates every few months (the issuing CA may change too) " +
        "and does not support certificate pinning: a CEC that trusts only the leaf stops connecting at the " +
        "next renewal. Should the issuing CA change, run `npm run onboard` again and send the new files.",
    );
  }
  return lines;
}

/** The handoff's README.md: all an administrator needs, without this repository. */
export function handoffReadme({ origin, validateUrl, tenant, provedAt, checks, stopped, entries }) {
  const { hostname } = new URL(origin);
  const failed = checks.filter((entry) => !entry.ok);
  const local = ["localhost", "127.0.0.1", "[::1]"].includes(hostname);
  const lines = [
    `${HANDOFF_HEADING}: ${origin}`,
    "",
    failed.length === 0
      ? `**PASSED**: every check below passed on ${utc(provedAt)}. Ready for CEC's operations administrator.`
      : `**FAILED**: ${failed.length} of ${checks.length} checks failed on ${utc(provedAt)}. ` +
        "Do not hand this over: fix what the failed checks say and run `npm run onboard` again.",
    ...(local
      ? [
          "",
          `This proves a local development server (${hostname}), not a deployment: hand over a proof of the deployed URL.`,
        ]
      : []),
    "",
    "## Configure in CEC",
    "",
    "| | |",
    "| --- | --- |",
    `| Token authentication API (validate URL) | \`${validateUrl}\` |`,
    `| Tenant space ID | \`${tenant}\` |`,
    `| Certificate to trust | ${list(entries.filter((entry) => entry.role !== "leaf").map((entry) => entry.name)) || "none found (below)"} |`,
    "",
    'CEC calls the URL with `POST` and a JSON body `{"Token", "userName", "userId", "tenantSpaceId"}`; ' +
      "`retCode` 0 in the answer means the token is valid.",
    "",
    "## Which certificate CEC should trust",
    "",
    ...trustAdvice(entries, hostname),
    "",
    "## Certificates",
    "",
    "Each as CER (DER) and, beside it, PEM (same name, `.pem`).",
    ...entries.flatMap((entry) => [
      "",
      `### \`${entry.name}\`: ${ROLES[entry.role]}`,
      "",
      `- Subject: ${entry.subject}`,
      `- Issuer: ${entry.issuer}`,
      `- Valid from ${certificateDate(entry.validFrom)} to ${certificateDate(entry.validTo)}`,
      `- SHA-256 fingerprint: \`${entry.sha256}\``,
    ]),
    ...(entries.length === 0 ? ["", "None: the TLS handshake failed (below)."] : []),
    "",
    "## Checks",
    "",
    `Proved on ${utc(provedAt)} from a machine calling ${origin} as CEC does.`,
    "",
    "| Check | Result | Detail |",
    "| --- | --- | --- |",
    ...checks.map(
      (entry) => `| ${cell(entry.name)} | ${entry.ok ? "ok" : "**FAILED**"} | ${cell(entry.detail ?? "")} |`,
    ),
    ...(stopped ? ["", "The checks after the last one above could not run: they need it to pass."] : []),
    "",
    "Nothing in this folder is secret: it holds no API key and no token.",
    "",
  ];
  return lines.join("\n");
}

/**
 * The handoff folder, emptied of an earlier handoff. A folder holding anything else (or a
 * README.md that is not a handoff) is refused, so nothing of the user's is removed.
 */
function prepareOut(out) {
  if (!existsSync(out)) return;
  if (!statSync(out).isDirectory()) usageError(TOOL, USAGE, `--out ${out} is a file: name a folder`);
  const readme = join(out, "README.md");
  const names = readdirSync(out);
  const ours = (name) =>
    CERTIFICATE_FILE.test(name) ||
    (name === "README.md" && readFileSync(readme, "utf8").startsWith(HANDOFF_HEADING));
  const foreign = names.find((name) => !ours(name));
  if (foreign) {
    usageError(
      TOOL,
      USAGE,
      `--out ${out} holds ${foreign}, which is not part of a handoff: name a new or empty folder (default ${DEFAULT_OUT})`,
    );
  }
  for (const name of names) rmSync(join(out, name), { force: true });
}

async function main() {
  const { values } = parseOptions(TOOL, USAGE, process.argv.slice(2), {
    url: { type: "string" },
    "api-key": { type: "string" },
    tenant: { type: "string" },
    ca: { type: "string" },
    out: { type: "string" },
    "clock-tolerance": { type: "string" },
  });
  const missing = ["url", "api-key", "tenant"].filter((name) => !values[name]);
  if (missing.length > 0) usageError(TOOL, USAGE, `needs ${missing.map((name) => `--${name}`).join(", ")}`);
  const url = checkUrlOption(TOOL, USAGE, values.url, {
    hint: (typed) => `write https://${typed} (CEC calls the validate API over HTTPS only)`,
  });
  if (url.protocol === "http:") {
    usageError(
      TOOL,
      USAGE,
      `--url ${values.url}: CEC calls the validate API over HTTPS only; write https://${url.host} (plain http:// is checked too: it must be refused)`,
    );
  }
  if (url.pathname !== "/" || url.search || url.hash) {
    usageError(
      TOOL,
      USAGE,
      `--url is the deployment's origin (${url.origin}), without a path: the validate path is read from its /openapi.json`,
    );
  }
  const tolerance = values["clock-tolerance"] ?? "5";
  if (!/^\d{1,3}$/.test(tolerance) || Number(tolerance) > 300) {
    usageError(TOOL, USAGE, `--clock-tolerance ${tolerance}: a whole number of seconds from 0 to 300`);
  }
  const ca = values.ca && readCaCertificate(TOOL, USAGE, values.ca);
  if (ca) await trustForFetch(ca);
  const out = resolve(values.out ?? DEFAULT_OUT);
  prepareOut(out);

  const apiKey = values["api-key"];
  const provedAt = new Date();
  const { checks, certificates, validatePath, stopped } = await prove(
    { origin: url.origin, apiKey, tenant: values.tenant, ca, toleranceSeconds: Number(tolerance) },
    (entry) => console.log(stepLine(entry)),
  );
  const entries = writeChain(certificates, out, hostFileStem(url.origin)).map((entry) => ({
    ...entry,
    name: basename(entry.file),
  }));
  const validateUrl = new URL(validatePath, url.origin).href;
  const readme = handoffReadme({
    origin: url.origin,
    validateUrl,
    tenant: values.tenant,
    provedAt,
    checks,
    stopped,
    entries,
  });
  writeFileSync(join(out, "README.md"), scrub(readme, apiKey));

  const failed = checks.filter((entry) => !entry.ok);
  if (failed.length > 0) {
    console.error(
      `${TOOL}: ${failed.length} check(s) failed (FAIL above, what to fix after each)` +
        `${stopped ? ", and the checks after the last could not run" : ""}: do not hand ${out} over; fix and run again`,
    );
    return 1;
  }
  console.log(
    `\nHandoff in ${out}: README.md and ${entries.length} certificate(s). Send the folder to CEC's operations ` +
      `administrator (nothing in it is secret): validate URL ${validateUrl}, tenant ${values.tenant}.`,
  );
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main().then(
    (code) => process.exit(code),
    (error) => {
      console.error(`${TOOL}: ${error.cause?.message ?? error.message}`);
      process.exit(1);
    },
  );
}
