import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureDevCertificates } from "../scripts/dev-cert.mjs";
import { fixtureConfig } from "../test/fixtures/worker-config.mjs";

const root = join(import.meta.dirname, "..");
const screenshots = join(root, "e2e-screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

let server: ChildProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let origin: string;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * `wrangler dev` over HTTPS, as `npm run dev:https` runs it, on a free port: on wrangler.toml
 * as shipped and certificates of its own, in temporary folders (never the developer's
 * wrangler.toml, .dev.vars or .certs/).
 */
async function startWorker(): Promise<string> {
  const certs = ensureDevCertificates(mkdtempSync(join(tmpdir(), "e2e-certs-")));
  const configPath = fixtureConfig();
  const port = await freePort();
  server = spawn(
    process.execPath,
    [
      join(root, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config",
      configPath,
      "--var",
      "ENVIRONMENT:development",
      // E2E_CONSISTENCY=strict runs the same walk-through on the Durable Object ledger.
      "--var",
      `CONSISTENCY:${process.env.E2E_CONSISTENCY ?? "eventual"}`,
      "--local-protocol",
      "https",
      "--https-key-path",
      join(certs, "localhost-key.pem"),
      "--https-cert-path",
      join(certs, "localhost-chain.pem"),
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--persist-to",
      join(root, ".wrangler", "e2e-state"),
    ],
    {
      // wrangler reads `.env` where it runs: beside the configuration.
      cwd: dirname(configPath),
      env: {
        ...process.env,
        WRANGLER_SEND_METRICS: "false",
        CLOUDFLARE_CF_FETCH_ENABLED: "false",
        NO_COLOR: "1",
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("wrangler dev did not start")), 60_000);
    server.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("Ready on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    server.on("exit", (code) => reject(new Error(`wrangler dev exited with ${code}`)));
  });
  return `https://localhost:${port}`;
}

const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(screenshots, { recursive: true });
  origin = await startWorker();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As this machine's probe starts it: no sandbox as root, nothing that phones home.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  // The local CA is not in Chromium's store; the certificate is still real TLS.
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1100, height: 900 } });
  page = await context.newPage();
  await page.goto(`${origin}/playground`);
  // The page wires its buttons once it has read /playground/config.json: wait for that, or a
  // click on a cold Worker can land before anything listens (seen once on a fresh clone).
  await page.locator("#environment", { hasText: "Environment:" }).waitFor();
});

afterAll(async () => {
  await browser?.close();
  server?.kill();
});

describe("the playground, in Chromium, over HTTPS", () => {
  it("1. signs in as a demo user", async () => {
    await page.getByRole("button", { name: "Sign in as Alice" }).click();
    await expect
      .poll(() => page.locator("#signed-in").textContent())
      .toContain("Signed in as Alice Example (demo-alice)");
    await shot("1-sign-in");
  });

  it("2. requests a token and shows it decoded, with a countdown", async () => {
    await page.getByRole("button", { name: "Request token" }).click();
    await page.locator("#token-view").waitFor({ state: "visible" });
    const header = JSON.parse((await page.locator("#token-header").textContent()) ?? "{}");
    expect(header).toMatchObject({ alg: "HS256", typ: "cec-chat+jwt" });
    const claims = JSON.parse((await page.locator("#token-claims").textContent()) ?? "{}");
    expect(claims).toMatchObject({
      sub: "demo-alice",
      name: "Alice Example",
      tenant_space_id: "202007159031",
    });
    await expect.poll(() => page.locator("#countdown").textContent()).toMatch(/^[45] min \d+ s$/);
    await shot("2-token");
  });

  it("3. shows the chat client snippet with the live values", async () => {
    const snippet = (await page.locator("#snippet").textContent()) ?? "";
    const token = (await page.locator("#token-raw").textContent()) ?? "";
    expect(snippet).toContain("thirdPartyClient.js?");
    expect(snippet).toContain(`thirdUserToken=${token}`);
    expect(snippet).toContain("thirdUserId=demo-alice");
    expect(snippet).toContain("thirdUserName=Alice+Example");
    expect(snippet).toContain("tenantSpaceId=202007159031");
    expect(snippet).toContain("channelConfigId=your-channel-config-id");
    await shot("3-snippet");
  });

  it("4. plays CEC: validates, and the verdict changes when a field is tampered with", async () => {
    const validate = () => page.getByRole("button", { name: "Validate as CEC" }).click();
    const verdict = () => page.locator("#verdict").textContent();
    await validate();
    await expect.poll(verdict).toBe("HTTP 200 · retCode 0 · validate success");
    await shot("4a-valid");
    await page.getByLabel("userId").fill("demo-bob");
    await validate();
    await expect.poll(verdict).toContain("retCode 5");
    await page.getByLabel("userId").fill("demo-alice");
    await page.getByRole("button", { name: "Tamper with the signature" }).click();
    await validate();
    await expect.poll(verdict).toContain("retCode 2");
    await shot("4b-tampered");
  });

  it("5. opens a session: the browser keeps the cookie as intended, sends it back, and logs out", async () => {
    await page.getByRole("button", { name: "Open session" }).click();
    const result = () => page.locator("#session-result").textContent();
    await expect.poll(result).toBe("HTTP 200 · retCode 0 · validate success");
    const cookie = (await context.cookies(origin)).find((c) => c.name === "ccmessaging-token");
    expect(cookie).toMatchObject({
      secure: true,
      httpOnly: true,
      sameSite: "None",
      path: "/",
      domain: "localhost",
    });
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000 + 3500);
    // HttpOnly: the page's script cannot read it.
    expect(await page.evaluate(() => document.cookie)).not.toContain("ccmessaging-token");

    await page.getByRole("button", { name: "Call protected endpoint" }).click();
    await expect.poll(result).toContain("HTTP 200 · session of demo-alice on web-1");
    await shot("5a-session");

    await page.getByRole("button", { name: "Log out" }).click();
    await expect.poll(result).toContain("HTTP 204 · logged out");
    expect((await context.cookies(origin)).find((c) => c.name === "ccmessaging-token")).toBeUndefined();
    await page.getByRole("button", { name: "Call protected endpoint" }).click();
    await expect
      .poll(result)
      .toBe("HTTP 401 · retCode 1 · malformed request: no ccmessaging-token cookie or header");
    await shot("5b-logged-out");
  });

  it("reads at phone width", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot("6-phone");
  });
});
