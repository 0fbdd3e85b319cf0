import { execFile } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:https";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { API_KEY, bundle, root, start, TENANT } from "../bench/workerd.mjs";
import { fetchChain, writeChain } from "../scripts/cert-cer.mjs";
import { CA_NAME, ensureDevCertificates } from "../scripts/dev-cert.mjs";
import { fixtureConfig } from "../test/fixtures/worker-config.mjs";

const run = promisify(execFile);

/** A made-up identity for cec's validate. */
const IDENTITY = ["--token", "t", "--user-id", "u", "--user-name", "U", "--tenant", "1"];
/** `npm run cec -- validate --url <url> …`, as a process of its own. */
const cecValidate = (url: string, ...more: string[]) =>
  run(process.execPath, [join(root, "scripts/cec.mjs"), "validate", "--url", url, ...IDENTITY, ...more]);

describe("npm run cert:cer", () => {
  let server: ReturnType<typeof createServer>;
  let url: string;
  // A set of its own: never the developer's .certs/.
  const certs = ensureDevCertificates(mkdtempSync(join(tmpdir(), "certs-")));

  beforeAll(async () => {
    server = createServer(
      {
        key: readFileSync(join(certs, "localhost-key.pem")),
        cert: readFileSync(join(certs, "localhost-chain.pem")),
      },
      (_, response) => response.end("ok"),
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://localhost:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it("reads the chain a TLS server presents and writes each certificate as CER (DER) and PEM", async () => {
    const chain = await fetchChain(url);
    expect(chain.map((certificate: X509Certificate) => certificate.subject)).toEqual([
      "CN=localhost",
      `CN=${CA_NAME}`,
    ]);
    const out = mkdtempSync(join(tmpdir(), "cer-"));
    const written = writeChain(chain, out, "localhost");
    expect(written.map((entry: { role: string }) => entry.role)).toEqual(["leaf", "root"]);
    for (const [index, entry] of written.entries()) {
      const der = new X509Certificate(readFileSync(entry.file));
      expect(der.fingerprint256).toBe(entry.sha256);
      expect(der.fingerprint256).toBe(chain[index].fingerprint256);
      expect(new X509Certificate(readFileSync(entry.file.replace(/\.cer$/, ".pem"))).fingerprint256).toBe(
        entry.sha256,
      );
    }
    const ca = new X509Certificate(readFileSync(join(certs, "ca.pem")));
    expect(written[1].sha256).toBe(ca.fingerprint256);
  });

  it("cec suggests --ca when the server's certificate is not trusted, and trusts it with --ca", async () => {
    await expect(cecValidate(url)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringMatching(
        /TLS failure talking to https:\/\/localhost:\d+ \(.+\): .*pass it with --ca/,
      ),
    });
    // With the CA the TLS handshake succeeds; this server is no Worker, which is said.
    await expect(cecValidate(url, "--ca", join(certs, "ca.pem"))).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining('NOT THIS WORKER: HTTP 200, content-type none, first line "ok"'),
    });
  });

  it("prints subject, issuer, validity and fingerprint from the command line", async () => {
    const out = mkdtempSync(join(tmpdir(), "cer-"));
    const { stdout } = await run(process.execPath, [join(root, "scripts/cert-cer.mjs"), url, "--out", out]);
    expect(stdout).toMatch(/leaf\s+\S+localhost-0-leaf\.cer/);
    expect(stdout).toContain("subject  CN=localhost");
    expect(stdout).toContain("issuer   CN=cec-edge-token local development CA");
    expect(stdout).toMatch(/SHA-256 {2}([0-9A-F]{2}:){31}[0-9A-F]{2}/);
    expect(stdout).toContain("the issuing CA");
  });
});

describe("npm run cec", () => {
  let worker: Awaited<ReturnType<typeof start>>;
  let script: string;
  // wrangler.toml as shipped, in a folder of its own: never the developer's configuration.
  const configPath = fixtureConfig();

  beforeAll(async () => {
    script = bundle(mkdtempSync(join(tmpdir(), "tools-test-build-")), undefined, { configPath }).path;
    worker = await start(script, { configPath });
  }, 60_000);
  afterAll(() => worker?.mf.dispose());

  it("prints the HTTP status, retCode and message of every unexpected answer from a misconfigured Worker", async () => {
    const misconfigured = await start(script, {
      extraBindings: { ENVIRONMENT: "production", TENANT_SPACE_IDS: "", API_KEYS: "" },
      configPath,
    });
    try {
      const failing = run(process.execPath, [
        join(root, "scripts/cec.mjs"),
        "e2e",
        "--url",
        misconfigured.url,
        "--api-key",
        API_KEY,
        "--tenant",
        TENANT,
      ]);
      const { stdout } = await failing.catch((error) => error);
      expect(stdout).toContain("FAIL healthz answers 200: HTTP 503, retCode 11 (service misconfigured:");
      expect(stdout).toContain("FAIL issue a token with the API key: HTTP 503, retCode 11");
      expect(stdout).toContain(
        "TENANT_SPACE_IDS is not set (set it under [env.production.vars] in wrangler.toml)",
      );
      expect(stdout).toContain(
        "API_KEYS is not set (set it with `wrangler secret put API_KEYS --env production`)",
      );
      await expect(failing).rejects.toMatchObject({ code: 1 });
    } finally {
      await misconfigured.mf.dispose();
    }
  }, 60_000);

  it("names the missing arguments, with the usage, exit 2", async () => {
    await expect(
      run(process.execPath, [join(root, "scripts/cec.mjs"), "e2e", "--url", worker.url]),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(/e2e needs --api-key, --tenant[\s\S]*usage: npm run cec/),
    });
  });

  it("runs the end-to-end check against the Worker and passes", async () => {
    const { stdout } = await run(process.execPath, [
      join(root, "scripts/cec.mjs"),
      "e2e",
      "--url",
      worker.url,
      "--api-key",
      API_KEY,
      "--tenant",
      TENANT,
    ]);
    expect(stdout).toContain("validate: retCode 0: VALID");
    expect(stdout).toContain("revoked token: retCode 6");
    expect(stdout).toContain("e2e: all checks passed");
    expect(stdout).not.toContain("FAIL");
  }, 30_000);

  it("exits non-zero when the deployment surprises it", async () => {
    const failing = run(process.execPath, [
      join(root, "scripts/cec.mjs"),
      "e2e",
      "--url",
      worker.url,
      "--api-key",
      "wrong-key-000000000000",
      "--tenant",
      TENANT,
    ]);
    await expect(failing).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining("FAIL issue a token"),
    });
  }, 30_000);

  it("prints the verdict of a single validation", async () => {
    const failing = run(process.execPath, [
      join(root, "scripts/cec.mjs"),
      "validate",
      "--url",
      worker.url,
      "--token",
      "not-a-token",
      "--user-id",
      "u1",
      "--user-name",
      "U",
      "--tenant",
      TENANT,
    ]);
    await expect(failing).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining("REFUSED: HTTP 200, retCode 2"),
    });
  });
});

describe("npm run cec: every wrong address or file gets an answer that says what to do", () => {
  const certs = ensureDevCertificates(mkdtempSync(join(tmpdir(), "certs-")));
  const servers: { close: () => void }[] = [];
  let htmlUrl: string;
  let httpsPort: number;
  let tlsAlertPort: number;

  beforeAll(async () => {
    const listen = async (server: ReturnType<typeof createNetServer>) => {
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      return (server.address() as AddressInfo).port;
    };
    // A web server that is not this Worker.
    const html = createHttpServer((_, response) => {
      response.writeHead(200, { "Content-Type": "text/html" });
      response.end("<!DOCTYPE html>\n<html><body>Welcome to nginx</body></html>\n");
    });
    htmlUrl = `http://127.0.0.1:${await listen(html)}`;
    // An HTTPS server (as `npm run dev:https` is), to be called with http://.
    const https = createServer(
      {
        key: readFileSync(join(certs, "localhost-key.pem")),
        cert: readFileSync(join(certs, "localhost-chain.pem")),
      },
      (_, response) => response.end("ok"),
    );
    httpsPort = await listen(https);
    // A TLS server that answers plain HTTP with a TLS alert, as workerd does.
    const alert = createNetServer((socket) => {
      socket.once("data", () => socket.end(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])));
    });
    tlsAlertPort = await listen(alert);
  });
  afterAll(() => {
    for (const server of servers) server.close();
  });

  it("a URL without its scheme: says so, exit 2", async () => {
    await expect(cecValidate("localhost:8787")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(
        "--url localhost:8787 has no scheme: write http://localhost:8787 (npm run dev) or https://localhost:8787",
      ),
    });
    await expect(cecValidate("ftp://localhost:8787")).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("--url must start with http:// or https://"),
    });
  });

  it("a server that is not this Worker: its status, content type and first line, not its page", async () => {
    const failing = cecValidate(htmlUrl);
    await expect(failing).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining(
        'NOT THIS WORKER: HTTP 200, content-type text/html, first line "<!DOCTYPE html>"',
      ),
    });
    const { stdout } = await failing.catch((error) => error);
    expect(stdout).toContain("is --url the Worker's address");
    expect(stdout).not.toContain("Welcome to nginx");

    const e2e = run(process.execPath, [
      join(root, "scripts/cec.mjs"),
      "e2e",
      "--url",
      htmlUrl,
      "--api-key",
      "k",
      "--tenant",
      "1",
    ]);
    const answered = await e2e.catch((error) => error);
    expect(answered.code).toBe(1);
    expect(answered.stdout).toContain(
      'FAIL healthz answers 200: HTTP 200, not this Worker\'s answer (content-type text/html, first line "<!DOCTYPE html>")',
    );
  });

  it.each([
    ["an HTTPS server that closes the connection", () => httpsPort],
    ["an HTTPS server that answers with a TLS alert", () => tlsAlertPort],
  ])("http:// against %s: suggests https://", async (_, port) => {
    await expect(cecValidate(`http://localhost:${port()}`)).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(`is it HTTPS? Try https://localhost:${port()}`),
    });
  });

  it.each([
    ["cec", ["validate", "--url", "https://localhost:1", ...IDENTITY]],
    ["cert:cer", ["https://localhost:1"]],
  ])("%s refuses a --ca that is not a PEM certificate, exit 2", async (tool, args) => {
    const file = join(root, tool === "cec" ? "scripts/cec.mjs" : "scripts/cert-cer.mjs");
    await expect(
      run(process.execPath, [file, ...args, "--ca", join(root, "README.md")]),
    ).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining(`--ca ${join(root, "README.md")} is not a PEM certificate`),
    });
    await expect(run(process.execPath, [file, ...args, "--ca", "/no/such/ca.pem"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining("cannot read --ca /no/such/ca.pem (ENOENT)"),
    });
  });
});
