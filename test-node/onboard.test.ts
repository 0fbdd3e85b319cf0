import { execFile, execFileSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningWorker, root, startWorker } from "../e2e/dev-worker";
import { ensureDevCertificates } from "../scripts/dev-cert.mjs";
import { clockCheck } from "../scripts/onboard.mjs";

const run = promisify(execFile);

// Given to the Worker as a variable, so this test can look for it in everything written.
const API_KEY = "onboard-test-api-key-0123456789abcdef";
const TENANT = "202007159031";
const VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";
/** A signed token (JWS compact) anywhere in a text. */
const TOKEN = /eyJ[\w-]*\.[\w-]*\.[\w-]*/;

/** `npm run onboard -- …` as a process of its own; resolves with its exit code whatever it is. */
async function onboard(...args: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(root, "scripts/onboard.mjs"), ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { code, stdout, stderr };
  }
}

const newFolder = (prefix: string) => mkdtempSync(join(tmpdir(), `onboard-${prefix}-`));

/** Every file in a handoff, as text (the .cer as latin1: a key or token would still show). */
function handoffText(out: string) {
  return readdirSync(out)
    .map((name) => readFileSync(join(out, name), name.endsWith(".cer") ? "latin1" : "utf8"))
    .join("\n");
}

function expectNoSecret(...texts: string[]) {
  for (const text of texts) {
    expect(text).not.toContain(API_KEY);
    expect(text).not.toMatch(TOKEN);
  }
}

const listen = async (server: ReturnType<typeof createServer>) => {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `https://localhost:${(server.address() as AddressInfo).port}`;
};

describe("npm run onboard against wrangler dev over HTTPS (npm run dev:https)", () => {
  let worker: RunningWorker;
  let ca: string;
  let proxy: ReturnType<typeof createServer>;
  let skewedUrl: string;

  beforeAll(async () => {
    worker = await startWorker({ state: newFolder("state"), vars: [`API_KEYS:${API_KEY}`] });
    ca = join(worker.certs, "ca.pem");
    // The Worker behind a proxy whose clock is two minutes ahead: only its Date header differs.
    proxy = createServer(
      {
        key: readFileSync(join(worker.certs, "localhost-key.pem")),
        cert: readFileSync(join(worker.certs, "localhost-chain.pem")),
      },
      (incoming, outgoing) => {
        const upstream = request(
          new URL(incoming.url ?? "/", worker.origin),
          { method: incoming.method, headers: incoming.headers, ca: readFileSync(ca) },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, {
              ...answer.headers,
              date: new Date(Date.now() + 120_000).toUTCString(),
            });
            answer.pipe(outgoing);
          },
        );
        incoming.pipe(upstream);
      },
    );
    skewedUrl = await listen(proxy);
  }, 90_000);

  /** As CEC's side would run it against `url`, trusting the local CA. */
  const onboardWith = (url: string, out: string) =>
    onboard("--url", url, "--api-key", API_KEY, "--tenant", TENANT, "--ca", ca, "--out", out);

  afterAll(async () => {
    proxy?.close();
    if (worker && worker.server.exitCode === null) {
      const exited = new Promise((resolve) => worker.server.once("exit", resolve));
      worker.server.kill();
      await exited;
    }
  });

  it("proves the deployment, exit 0, and writes the handoff: certificates, README.md, no secret", async () => {
    const out = join(newFolder("out"), "cec-handoff");
    // An earlier handoff in --out is replaced, its certificates too.
    mkdirSync(out);
    writeFileSync(join(out, "README.md"), "# CEC handoff: https://old.example\n");
    writeFileSync(join(out, "old.example-0-leaf.cer"), "stale");

    const { code, stdout, stderr } = await onboardWith(worker.origin, out);
    expect({ code, stderr }).toEqual({ code: 0, stderr: "" });
    const port = new URL(worker.origin).port;
    for (const line of [
      "ok   certificate chain: verifies for localhost up to CN=cec-edge-token local development CA",
      "ok   TLS version: TLSv1.3",
      `ok   validate path (from /openapi.json): ${VALIDATE_PATH}`,
      "ok   server clock (Date header): no Date header (a local wrangler dev sends none",
      `ok   plain HTTP on the validate path: http://localhost:${port}${VALIDATE_PATH}: POST refused (port ${port} speaks only TLS: no HTTP answer); GET refused`,
      "ok   round trip: validate: retCode 0",
      "ok   round trip: tampered signature: retCode 2",
      "ok   round trip: another user's identity: retCode 5",
      "ok   round trip: revoke the token: HTTP 204",
      "ok   round trip: revoked token: retCode 6",
    ]) {
      expect(stdout).toContain(line);
    }
    expect(stdout).not.toContain("FAIL");

    expect(readdirSync(out).sort()).toEqual([
      "README.md",
      "localhost-0-leaf.cer",
      "localhost-0-leaf.pem",
      "localhost-1-root.cer",
      "localhost-1-root.pem",
    ]);
    const leaf = new X509Certificate(readFileSync(join(out, "localhost-0-leaf.cer")));
    const root = new X509Certificate(readFileSync(join(out, "localhost-1-root.cer")));
    expect(leaf.subject).toBe("CN=localhost");
    expect(leaf.checkIssued(root)).toBe(true);
    expect(root.fingerprint256).toBe(new X509Certificate(readFileSync(ca)).fingerprint256);
    expect(new X509Certificate(readFileSync(join(out, "localhost-1-root.pem"))).fingerprint256).toBe(
      root.fingerprint256,
    );

    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toMatch(/^# CEC handoff: https:\/\/localhost:\d+\n/);
    expect(readme).toContain("**PASSED**");
    expect(readme).toContain(
      `| Token authentication API (validate URL) | \`${worker.origin}${VALIDATE_PATH}\` |`,
    );
    expect(readme).toContain(`| Tenant space ID | \`${TENANT}\` |`);
    expect(readme).toContain("| Certificate to trust | `localhost-1-root.cer` |");
    expect(readme).toContain("Not `localhost-0-leaf.cer` alone");
    expect(readme).toContain("does not support certificate pinning");
    for (const certificate of [leaf, root]) {
      expect(readme).toContain(`SHA-256 fingerprint: \`${certificate.fingerprint256}\``);
      expect(readme).toContain(`Subject: ${certificate.subject}`);
    }
    expect(readme).toMatch(/Valid from \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC to \d{4}-/);
    expect(readme).toMatch(/Proved on \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    for (const check of [
      "certificate chain",
      "TLS version",
      "validate path (from /openapi.json)",
      "server clock (Date header)",
      "plain HTTP on the validate path",
      "round trip: issue a token with the API key",
      "round trip: validate: retCode 0",
      "round trip: tampered signature: retCode 2",
      "round trip: another user's identity: retCode 5",
      "round trip: revoke the token",
      "round trip: revoked token: retCode 6",
    ]) {
      expect(readme).toContain(`| ${check} | ok |`);
    }
    expect(readme).not.toContain("FAILED");
    expectNoSecret(stdout, handoffText(out));
  }, 60_000);

  it("a server clock beyond the tolerance: exit 1, the skew and what to check, nothing else failed", async () => {
    const out = join(newFolder("out"), "cec-handoff");
    const { code, stdout, stderr } = await onboardWith(skewedUrl, out);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /FAIL server clock \(Date header\): server ahead by about 1(19|20|21)\.\d s \(Date: .+ GMT\), beyond the tolerance of 5 s \(CLOCK_TOLERANCE_SECONDS\)/,
    );
    expect(stdout).toContain("Check this machine's clock first");
    // The Worker behind the proxy passed everything else.
    expect(stdout.match(/^FAIL/gm)).toHaveLength(1);
    expect(stdout).toContain("ok   round trip: revoked token: retCode 6");
    expect(stderr).toContain("onboard: 1 check(s) failed");
    expect(stderr).toContain("do not hand");
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain("**FAILED**: 1 of 12 checks failed");
    expect(readme).toMatch(/\| server clock \(Date header\) \| \*\*FAILED\*\* \| server ahead by about/);
    expectNoSecret(stdout, stderr, handoffText(out));
  }, 60_000);
});

/**
 * A public CA's shape: a root, an intermediate it signs, and a certificate for localhost the
 * intermediate signs, in `dir`. The server sends the leaf and the intermediate, not the root.
 */
function threeLevelChain(dir: string) {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const newKey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    "req",
    "-x509",
    ...newKey,
    "-days",
    "2",
    "-subj",
    "/CN=Onboard Test Root",
    "-keyout",
    "root-key.pem",
    "-out",
    "root.pem",
  );
  writeFileSync(
    join(dir, "ca.ext"),
    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n",
  );
  writeFileSync(
    join(dir, "leaf.ext"),
    "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n",
  );
  const sign = (name: string, subject: string, issuer: string, extensions: string) => {
    openssl("req", ...newKey, "-subj", subject, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${issuer}.pem`,
      "-CAkey",
      `${issuer}-key.pem`,
      "-set_serial",
      String(Date.now()),
      "-days",
      "2",
      "-extfile",
      extensions,
      "-out",
      `${name}.pem`,
    );
  };
  sign("intermediate", "/CN=Onboard Test Intermediate", "root", "ca.ext");
  sign("leaf", "/CN=localhost", "intermediate", "leaf.ext");
  return {
    key: readFileSync(join(dir, "leaf-key.pem")),
    cert: `${readFileSync(join(dir, "leaf.pem"), "utf8")}${readFileSync(join(dir, "intermediate.pem"), "utf8")}`,
    root: join(dir, "root.pem"),
  };
}

describe("npm run onboard: what it refuses, and a server that is not this Worker", () => {
  const certs = ensureDevCertificates(newFolder("certs"));
  const chain = threeLevelChain(newFolder("chain"));
  const servers: ReturnType<typeof createServer>[] = [];
  let url: string;
  let threeLevelUrl: string;
  const identity = ["--api-key", API_KEY, "--tenant", TENANT];

  /** A web server over TLS, with a correct Date, that is not this Worker. */
  const webServer = (tls: { key: Buffer; cert: string | Buffer }) => {
    const server = createServer(tls, (_, response) => {
      response.writeHead(200, { "Content-Type": "text/html" });
      response.end("<!DOCTYPE html>\n<html><body>Welcome to nginx</body></html>\n");
    });
    servers.push(server);
    return listen(server);
  };

  beforeAll(async () => {
    url = await webServer({
      key: readFileSync(join(certs, "localhost-key.pem")),
      cert: readFileSync(join(certs, "localhost-chain.pem")),
    });
    threeLevelUrl = await webServer(chain);
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it("a server that is not this Worker: exit 1, its status, content type and first line, not its page", async () => {
    const out = join(newFolder("out"), "handoff");
    const { code, stdout, stderr } = await onboard(
      "--url",
      url,
      ...identity,
      "--ca",
      join(certs, "ca.pem"),
      "--out",
      out,
    );
    expect(code).toBe(1);
    expect(stdout).toContain(
      "FAIL validate path (from /openapi.json): GET /openapi.json: HTTP 200, not this Worker's answer (content-type text/html, first line \"<!DOCTYPE html>\"): is --url this Worker's address?",
    );
    // Its Date header is right: compared, and within the tolerance.
    expect(stdout).toMatch(
      /ok {3}server clock \(Date header\): server (ahead|behind) by about \d\.\d s .+ within/,
    );
    expect(stdout).toContain("FAIL round trip: issue a token with the API key");
    expect(stdout).not.toContain("Welcome to nginx");
    expect(stderr).toContain("the checks after the last could not run");
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain("**FAILED**");
    expect(readme).toContain("could not run");
    expectNoSecret(stdout, stderr, handoffText(out));
  }, 30_000);

  it("a root the server does not send: looked up, written and named as the certificate to trust", async () => {
    const out = join(newFolder("out"), "handoff");
    const { code } = await onboard("--url", threeLevelUrl, ...identity, "--ca", chain.root, "--out", out);
    // Not this Worker, but the certificates are the point here.
    expect(code).toBe(1);
    expect(readdirSync(out).filter((name) => name.endsWith(".cer"))).toEqual([
      "localhost-0-leaf.cer",
      "localhost-1-intermediate.cer",
      "localhost-2-root.cer",
    ]);
    const root = new X509Certificate(readFileSync(join(out, "localhost-2-root.cer")));
    expect(root.fingerprint256).toBe(new X509Certificate(readFileSync(chain.root)).fingerprint256);
    const readme = readFileSync(join(out, "README.md"), "utf8");
    expect(readme).toContain(
      "| Certificate to trust | `localhost-1-intermediate.cer`, `localhost-2-root.cer` |",
    );
    expect(readme).toContain(
      "**Trust `localhost-2-root.cer`** (CN=Onboard Test Root), and add `localhost-1-intermediate.cer` (intermediate)",
    );
    expect(readme).toContain(`SHA-256 fingerprint: \`${root.fingerprint256}\``);
    expect(readme).toContain(
      "| certificate chain | ok | verifies for localhost up to CN=Onboard Test Root |",
    );
  }, 30_000);

  it("a chain this machine does not trust: exit 1, suggests --ca, stops there", async () => {
    const { code, stdout } = await onboard("--url", url, ...identity, "--out", join(newFolder("out"), "h"));
    expect(code).toBe(1);
    expect(stdout).toContain(
      "FAIL certificate chain: the chain does not verify for localhost (SELF_SIGNED_CERT_IN_CHAIN): for a private CA pass it with --ca",
    );
    expect(stdout).not.toContain("round trip");
  }, 30_000);

  it.each([
    [
      "no scheme",
      ["--url", "localhost:8787"],
      "--url localhost:8787 has no scheme: write https://localhost:8787 (CEC calls the validate API over HTTPS only)",
    ],
    ["http://", ["--url", "http://localhost:8787"], "CEC calls the validate API over HTTPS only"],
    [
      "a path",
      ["--url", `https://localhost:8787${VALIDATE_PATH}`],
      "--url is the deployment's origin (https://localhost:8787), without a path",
    ],
    [
      "a --ca that is not a PEM certificate",
      ["--url", "https://localhost:1", "--ca", join(root, "README.md")],
      `--ca ${join(root, "README.md")} is not a PEM certificate`,
    ],
    [
      "a --ca that cannot be read",
      ["--url", "https://localhost:1", "--ca", "/no/such/ca.pem"],
      "cannot read --ca /no/such/ca.pem (ENOENT)",
    ],
    [
      "a --clock-tolerance that is no number of seconds",
      ["--url", "https://localhost:1", "--clock-tolerance", "5s"],
      "--clock-tolerance 5s: a whole number of seconds from 0 to 300",
    ],
    [
      "an --out holding anything but a handoff",
      ["--url", "https://localhost:1", "--out", root],
      "which is not part of a handoff: name a new or empty folder",
    ],
  ])("refuses %s, with the usage, exit 2", async (_, args, reason) => {
    const { code, stdout, stderr } = await onboard(...args, ...identity);
    expect({ code, stdout }).toEqual({ code: 2, stdout: "" });
    expect(stderr).toContain(reason);
    expect(stderr).toContain("usage: npm run onboard");
  });

  it("names the missing options", async () => {
    const { code, stderr } = await onboard("--url", url);
    expect(code).toBe(2);
    expect(stderr).toContain("onboard: needs --api-key, --tenant");
  });
});

describe("the clock check", () => {
  const at = Date.parse("Mon, 23 Nov 2026 07:48:26 GMT");
  it.each([
    // The header's second runs from `at` to `at + 999`.
    ["in the same second as this machine's", true, at + 400],
    ["5 s behind (the tolerance)", true, at + 999 + 5_000],
    ["just over 5 s behind", false, at + 999 + 5_001],
    ["5 s ahead", true, at - 5_000],
    ["just over 5 s ahead", false, at - 5_001],
  ])("a server clock %s: ok is %s", (_, ok, local) => {
    expect(clockCheck("Mon, 23 Nov 2026 07:48:26 GMT", local, local, 5).ok).toBe(ok);
  });

  it("no Date header: said, and passes on", () => {
    expect(clockCheck(null, at, at, 5)).toEqual({
      ok: true,
      detail: expect.stringContaining("no Date header"),
    });
  });
});
