#!/usr/bin/env node
// Makes a local certificate authority and a certificate for localhost signed by it, in
// .certs/ (git-ignored), for `npm run dev:https`. Idempotent: an existing set is kept.
// Uses the openssl command line. Trust .certs/ca.pem in a browser to avoid the warning.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseOptions } from "./cli.mjs";

const defaultDir = join(new URL("..", import.meta.url).pathname, ".certs");
const openssl = (...args) => execFileSync("openssl", args, { stdio: ["ignore", "pipe", "pipe"] });

/** Makes (or keeps) the set in `dir`, default .certs/; returns the folder. */
export function ensureDevCertificates(dir = defaultDir) {
  const file = (name) => join(dir, name);
  if (existsSync(file("localhost-chain.pem")) && existsSync(file("localhost-key.pem"))) return dir;
  mkdirSync(dir, { recursive: true });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-days",
    "825",
    "-subj",
    "/CN=cec-edge-token local development CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
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
    "-days",
    "397",
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
  return dir;
}

const USAGE = `usage: node scripts/dev-cert.mjs [--dir <folder>]

Makes a local certificate authority and a certificate for localhost signed by it, in
--dir (default .certs/, git-ignored), for \`npm run dev:https\`, which runs this first (its
own arguments go to wrangler dev). An existing set is kept. Trust <folder>/ca.pem in a
browser to avoid the warning. README, "HTTPS locally".

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
