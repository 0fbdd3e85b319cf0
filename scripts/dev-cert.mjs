#!/usr/bin/env node
// Makes a local certificate authority and a certificate for localhost signed by it, in
// .certs/ (git-ignored), for `npm run dev:https`. Uses the openssl command line. Trust
// .certs/ca.pem in a browser to avoid the warning.
//
// A CA a browser trusts could vouch for any site; this one cannot: its name constraints
// (critical) permit only localhost, 127.0.0.1 and ::1, and its key is discarded once the
// localhost certificate is signed, so it never signs anything else. A set made otherwise
// (an earlier version kept an unconstrained CA's key on disk) is replaced.
import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions } from "./cli.mjs";

const defaultDir = join(new URL("..", import.meta.url).pathname, ".certs");
const openssl = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

export const CA_NAME = "cec-edge-token local development CA (localhost only)";
/** The CA's extensions (openssl -addext): a CA for the loopback names only. */
export const CA_EXTENSIONS = [
  "basicConstraints=critical,CA:TRUE,pathlen:0",
  "keyUsage=critical,keyCertSign,cRLSign",
  "nameConstraints=critical,permitted;DNS:localhost,permitted;IP:127.0.0.1/255.255.255.255," +
    "permitted;IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
];
/** Days the CA and the certificate live: a set is remade 30 days before it ends. */
export const LIFETIME_DAYS = 365;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** The files of a set; anything else an earlier version wrote (ca-key.pem, …) is removed. */
const SET = ["ca.pem", "localhost.pem", "localhost-key.pem", "localhost-chain.pem"];
const EARLIER = ["ca-key.pem", "ca.srl", "localhost.csr", "localhost.ext"];

/** DER of the name-constraints extension's OID, 2.5.29.30. */
const NAME_CONSTRAINTS_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x1e]);

/** Why the set in `dir` must be made (again), or undefined when it can be kept. */
export function replacementReason(dir) {
  if (!SET.every((name) => existsSync(join(dir, name)))) return "no complete set yet";
  if (existsSync(join(dir, "ca-key.pem"))) return "its CA's key was kept on disk (an earlier version's CA)";
  let ca;
  let leaf;
  try {
    ca = new X509Certificate(readFileSync(join(dir, "ca.pem")));
    leaf = new X509Certificate(readFileSync(join(dir, "localhost.pem")));
  } catch {
    return "a certificate in it does not parse";
  }
  if (!ca.raw.includes(NAME_CONSTRAINTS_OID))
    return "its CA is not constrained to localhost (an earlier version's CA)";
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return "its certificate was not issued by its CA";
  if (
    Date.parse(leaf.validTo) - Date.now() < RENEW_BEFORE_MS ||
    Date.parse(ca.validTo) - Date.now() < RENEW_BEFORE_MS
  ) {
    return "it expires within 30 days";
  }
  return undefined;
}

/** Makes a set in a temporary folder, then moves it into `dir`; the CA's key never reaches `dir`. */
function makeSet(dir) {
  const work = mkdtempSync(join(tmpdir(), "dev-cert-"));
  const file = (name) => join(work, name);
  try {
    openssl(
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      String(LIFETIME_DAYS),
      "-subj",
      `/CN=${CA_NAME}`,
      ...CA_EXTENSIONS.flatMap((extension) => ["-addext", extension]),
      "-keyout",
      file("ca-key.pem"),
      "-out",
      file("ca.pem"),
    );
    openssl(
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-subj",
      "/CN=localhost",
      "-keyout",
      file("localhost-key.pem"),
      "-out",
      file("localhost.csr"),
    );
    writeFileSync(
      file("localhost.ext"),
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
    );
    openssl(
      "x509",
      "-req",
      "-in",
      file("localhost.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca-key.pem"),
      "-CAcreateserial",
      "-CAserial",
      file("ca.srl"),
      "-days",
      String(LIFETIME_DAYS),
      "-extfile",
      file("localhost.ext"),
      "-out",
      file("localhost.pem"),
    );
    // The server presents the leaf and the CA, as a real server presents its chain.
    writeFileSync(
      file("localhost-chain.pem"),
      readFileSync(file("localhost.pem"), "utf8") + readFileSync(file("ca.pem"), "utf8"),
    );
    mkdirSync(dir, { recursive: true });
    for (const name of EARLIER) rmSync(join(dir, name), { force: true });
    for (const name of SET) copyFileSync(file(name), join(dir, name));
  } finally {
    // The CA's key goes with the folder: nothing can be signed with this CA again.
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * Makes (or keeps) the set in `dir`, default .certs/; returns the folder. `log` hears
 * when a set that existed is replaced (a browser may trust its CA).
 */
export function ensureDevCertificates(dir = defaultDir, { log = (line) => console.error(line) } = {}) {
  const reason = replacementReason(dir);
  if (!reason) return dir;
  const replacing = existsSync(join(dir, "ca.pem"));
  makeSet(dir);
  if (replacing) {
    log(
      `dev-cert: made a new local CA in ${dir}: ${reason}. If a browser trusted the old one, remove ` +
        `"cec-edge-token local development CA" from its certificates and trust ${join(dir, "ca.pem")} instead.`,
    );
  }
  return dir;
}

const USAGE = `usage: node scripts/dev-cert.mjs [--dir <folder>]

Makes a local certificate authority and a certificate for localhost signed by it, in
--dir (default .certs/, git-ignored), for \`npm run dev:https\`, which runs this first (its
own arguments go to wrangler dev). The CA can vouch only for localhost, 127.0.0.1 and ::1
(name constraints) and its key is discarded once the certificate is signed. A set is kept
until 30 days before it ends (${LIFETIME_DAYS} days); an earlier version's set is replaced.
Trust <folder>/ca.pem in a browser to avoid the warning. README, "HTTPS locally".

Exit status: 0 ready, 1 openssl failed, 2 usage.`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const { values } = parseOptions("dev-cert", USAGE, process.argv.slice(2), { dir: { type: "string" } });
  try {
    console.log(`certificates in ${ensureDevCertificates(values.dir ? resolve(values.dir) : undefined)}`);
  } catch (error) {
    console.error(`dev-cert: ${String(error.stderr ?? error.message).trim()}`);
    process.exit(1);
  }
}
