import { execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as devCert from "../scripts/dev-cert.mjs";

const openssl = (...args: string[]) => execFileSync("openssl", args, { encoding: "utf8", stdio: "pipe" });
const folder = () => mkdtempSync(join(tmpdir(), "dev-cert-test-"));
const quiet = { log: () => {} };
const certificate = (dir: string, name: string) => new X509Certificate(readFileSync(join(dir, name)));

const NEW_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A CA in `dir` (ca.pem, its key ca-key.pem kept) with these openssl extensions. */
function makeCa(dir: string, name: string, days: number, extensions: string[]) {
  const ca = ["-keyout", join(dir, "ca-key.pem"), "-out", join(dir, "ca.pem")];
  const added = extensions.flatMap((extension) => ["-addext", extension]);
  openssl("req", "-x509", ...NEW_KEY, "-days", String(days), "-subj", `/CN=${name}`, ...added, ...ca);
}

/** `<name>.pem` and `<name>-key.pem` in `dir`, for subjectAltName `san`, signed by its CA. */
function signLeaf(dir: string, name: string, san: string, days: number) {
  const file = (suffix: string) => join(dir, `${name}${suffix}`);
  openssl("req", ...NEW_KEY, "-subj", `/CN=${name}`, "-keyout", file("-key.pem"), "-out", file(".csr"));
  writeFileSync(file(".ext"), `subjectAltName=${san}\n`);
  const ca = ["-CA", join(dir, "ca.pem"), "-CAkey", join(dir, "ca-key.pem"), "-CAcreateserial"];
  openssl(
    "x509",
    "-req",
    "-in",
    file(".csr"),
    ...ca,
    "-days",
    String(days),
    "-extfile",
    file(".ext"),
    "-out",
    file(".pem"),
  );
}

/** A set made as earlier versions made it: an unconstrained CA for 825 days, its key kept. */
function earlierSet(dir: string) {
  makeCa(dir, "cec-edge-token local development CA", 825, [
    "basicConstraints=critical,CA:TRUE",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  signLeaf(dir, "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", 397);
  const chain = readFileSync(join(dir, "localhost.pem"), "utf8") + readFileSync(join(dir, "ca.pem"), "utf8");
  writeFileSync(join(dir, "localhost-chain.pem"), chain);
}

describe("the local CA of npm run dev:https (scripts/dev-cert.mjs)", () => {
  it("can vouch only for localhost, 127.0.0.1 and ::1: critical name constraints", () => {
    const dir = devCert.ensureDevCertificates(folder(), quiet);
    const text = openssl("x509", "-in", join(dir, "ca.pem"), "-noout", "-text");
    const constraints = /X509v3 Name Constraints: critical\n([\s\S]*?)\n {4}Signature Algorithm/.exec(
      text,
    )?.[1];
    expect(
      constraints
        ?.split("\n")
        .map((line) => line.trim())
        .filter(Boolean),
    ).toEqual([
      "Permitted:",
      "DNS:localhost",
      "IP:127.0.0.1/255.255.255.255",
      "IP:0:0:0:0:0:0:0:1/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF",
    ]);
    expect(text).toContain("CA:TRUE, pathlen:0");
    expect(openssl("verify", "-CAfile", join(dir, "ca.pem"), join(dir, "localhost.pem"))).toContain("OK");
  });

  it("keeps no CA key: only the CA's certificate, the localhost certificate and its key", () => {
    const dir = devCert.ensureDevCertificates(folder(), quiet);
    expect(readdirSync(dir).sort()).toEqual([
      "ca.pem",
      "localhost-chain.pem",
      "localhost-key.pem",
      "localhost.pem",
    ]);
    const ca = certificate(dir, "ca.pem");
    const leaf = certificate(dir, "localhost.pem");
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(true);
  });

  it("lives a year at most, not 825 days", () => {
    const dir = devCert.ensureDevCertificates(folder(), quiet);
    for (const name of ["ca.pem", "localhost.pem"]) {
      const { validFrom, validTo } = certificate(dir, name);
      expect((Date.parse(validTo) - Date.parse(validFrom)) / 86_400_000).toBeLessThanOrEqual(366);
    }
  });

  it("the constraint holds: a certificate for another site, signed by such a CA, does not verify", () => {
    // The CA's key is discarded, so make a CA with the same extensions here, key kept.
    const dir = folder();
    makeCa(dir, "test CA", 1, devCert.CA_EXTENSIONS);
    const verify = (name: string, san: string) => {
      signLeaf(dir, name, san, 1);
      try {
        return openssl("verify", "-CAfile", join(dir, "ca.pem"), join(dir, `${name}.pem`));
      } catch (error) {
        return String((error as { stderr: string }).stderr);
      }
    };
    expect(verify("localhost", "DNS:localhost,IP:127.0.0.1,IP:::1")).toContain("OK");
    expect(verify("bank.example", "DNS:bank.example")).toContain("permitted subtree violation");
    expect(verify("ten", "IP:10.0.0.1")).toContain("permitted subtree violation");
  });

  it("replaces an earlier version's CA (unconstrained, key on disk), saying so; keeps a current set", () => {
    const dir = folder();
    earlierSet(dir);
    const before = certificate(dir, "ca.pem").fingerprint256;
    const said: string[] = [];
    devCert.ensureDevCertificates(dir, { log: (line: string) => said.push(line) });
    expect(certificate(dir, "ca.pem").fingerprint256).not.toBe(before);
    expect(existsSync(join(dir, "ca-key.pem"))).toBe(false);
    expect(readdirSync(dir).sort()).toEqual([
      "ca.pem",
      "localhost-chain.pem",
      "localhost-key.pem",
      "localhost.pem",
    ]);
    expect(openssl("x509", "-in", join(dir, "ca.pem"), "-noout", "-text")).toContain(
      "Name Constraints: critical",
    );
    expect(said.join("\n")).toContain("made a new local CA");
    expect(said.join("\n")).toContain(`trust ${join(dir, "ca.pem")} instead`);

    const current = certificate(dir, "ca.pem").fingerprint256;
    devCert.ensureDevCertificates(dir, { log: (line: string) => said.push(line) });
    expect(certificate(dir, "ca.pem").fingerprint256).toBe(current);
    expect(said).toHaveLength(1);
  });
});
