import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshots, startWorker } from "./worker";

let server: ChildProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let origin: string;

const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });

beforeAll(async () => {
  ({ origin, server } = await startWorker({
    state: "e2e-state",
    // E2E_CONSISTENCY=strict runs the same walk-through on the Durable Object ledger.
    vars: [`CONSISTENCY:${process.env.E2E_CONSISTENCY ?? "eventual"}`],
  }));
  browser = await launchChromium();
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
