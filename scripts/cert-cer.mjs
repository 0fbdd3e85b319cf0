#!/usr/bin/env node
// `npm run cert:cer -- <https-url> [--out <dir>] [--ca <pem>]`
// Connects to the server, reads the certificate chain it presents, and writes each
// certificate as CER (DER) with PEM beside it, ready for the CEC operations administrator,
// printing subject, issuer, validity and SHA-256 fingerprint. Cloudflare rotates its edge
// certificates and does not support pinning: hand CEC the issuing CA (intermediate and
// root), not only today's leaf. A root the server does not send is looked up in Node's
// bundled root store (or --ca) and written too.
import { X509Certificate } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as tls from "node:tls";
import { parseOptions, readCaCertificate, usageError } from "./cli.mjs";

const USAGE = `usage: npm run cert:cer -- https://host[:port] [--out dir] [--ca extra-root.pem]

Reads the certificate chain the server presents and writes each certificate as CER (DER)
and PEM under --out (default cer/), printing subject, issuer, validity and SHA-256
fingerprint. Hand CEC the issuing CA (intermediate and root), not only the leaf.

Exit status: 0 written, 1 failure, 2 usage.`;

/**
 * One TLS handshake with the server: its certificate chain, leaf first (`chain`: what it
 * sent, which Node's TLS completes with issuers from the trust store it was given), the
 * root when the chain does not end in one, looked up in Node's bundled store or `ca`
 * (`root`), the protocol version, and whether the chain verifies for the host (with `ca`
 * trusted too). `ca`: the PEM text of an extra root.
 */
export async function inspectTls(url, { ca } = {}) {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, "");
  const trusted = ca ? [...defaultCaCertificates(), ca] : undefined;
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      // The chain is read whatever its trust: this reports trust, it does not refuse.
      {
        host,
        port: Number(port || 443),
        servername: /^[\d.:]+$/.test(host) ? undefined : host,
        rejectUnauthorized: false,
        ...(trusted && { ca: trusted }),
      },
      () => {
        const chain = [];
        let current = socket.getPeerCertificate(true);
        const seen = new Set();
        while (current?.raw && !seen.has(current.fingerprint256)) {
          seen.add(current.fingerprint256);
          chain.push(new X509Certificate(current.raw));
          current = current.issuerCertificate;
        }
        const { authorized, authorizationError } = socket;
        const protocol = socket.getProtocol();
        socket.end();
        const last = chain.at(-1);
        const root =
          last && last.subject !== last.issuer
            ? [...tls.rootCertificates, ...(ca ? [ca] : [])]
                .map((pem) => new X509Certificate(pem))
                .find((candidate) => candidate.subject === last.issuer && last.checkIssued(candidate))
            : undefined;
        resolve({ chain, root, protocol, authorized, authorizationError });
      },
    );
    socket.setTimeout(10_000, () => socket.destroy(new Error("timed out")));
    socket.on("error", reject);
  });
}

/** Node's default trust store, as fetch sees it (bundled roots, NODE_EXTRA_CA_CERTS, …); Node 20 has only the bundled roots. */
function defaultCaCertificates() {
  return tls.getCACertificates ? tls.getCACertificates("default") : tls.rootCertificates;
}

/** The chain the server presents, and its root when it does not send it. `ca`: as inspectTls. */
export async function fetchChain(url, { ca } = {}) {
  const { chain, root } = await inspectTls(url, { ca });
  return root ? [...chain, root] : chain;
}

const role = (certificate, index, chain) =>
  index === 0
    ? "leaf"
    : certificate.subject === certificate.issuer
      ? "root"
      : index === chain.length - 1
        ? "ca"
        : "intermediate";

/** How a server's host names its certificate files: `<host>-<index>-<role>.cer`. */
export const hostFileStem = (url) => new URL(url).hostname.replace(/[^\w.-]/g, "_");

export function writeChain(chain, outDir, host) {
  mkdirSync(outDir, { recursive: true });
  return chain.map((certificate, index) => {
    const base = join(outDir, `${host}-${index}-${role(certificate, index, chain)}`);
    writeFileSync(`${base}.cer`, certificate.raw);
    writeFileSync(`${base}.pem`, certificate.toString());
    return {
      file: `${base}.cer`,
      role: role(certificate, index, chain),
      subject: certificate.subject.replace(/\n/g, ", "),
      issuer: certificate.issuer.replace(/\n/g, ", "),
      validFrom: certificate.validFrom,
      validTo: certificate.validTo,
      sha256: certificate.fingerprint256,
    };
  });
}

async function main() {
  const { values, positionals } = parseOptions(
    "cert:cer",
    USAGE,
    process.argv.slice(2),
    { out: { type: "string" }, ca: { type: "string" } },
    { allowPositionals: true },
  );
  const [target, ...extra] = positionals;
  if (!target) usageError("cert:cer", USAGE, "missing the server's https:// URL");
  if (!/^https:\/\//.test(target)) usageError("cert:cer", USAGE, "the URL must start with https://");
  if (extra.length > 0) usageError("cert:cer", USAGE, `unexpected argument '${extra[0]}'`);
  const extraRoot = values.ca && readCaCertificate("cert:cer", USAGE, values.ca);
  const chain = await fetchChain(target, { ca: extraRoot });
  if (chain.length === 0) throw new Error("the server presented no certificate");
  const written = writeChain(chain, values.out ?? "cer", hostFileStem(target));
  for (const entry of written) {
    console.log(`${entry.role.padEnd(12)} ${entry.file}
  subject  ${entry.subject}
  issuer   ${entry.issuer}
  valid    ${entry.validFrom} to ${entry.validTo}
  SHA-256  ${entry.sha256}`);
  }
  const ca = written.filter((entry) => entry.role !== "leaf");
  console.log(
    ca.length > 0
      ? `\nSend CEC the URL and ${ca.map((entry) => entry.file).join(" and ")} (the issuing CA): the leaf is rotated by Cloudflare.`
      : "\nThe server presented only a leaf and its root was not found: get the issuing CA's certificate from the CA.",
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error) => {
    console.error(`cert:cer: ${error.message}`);
    process.exit(1);
  });
}
