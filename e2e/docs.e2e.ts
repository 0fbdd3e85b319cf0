import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium, screenshots, startWorker } from "./worker";

/**
 * `/docs` in Chromium: the reference renders from this Worker alone (issue 23). Every
 * request the page makes, and every load the policy refused, is recorded; any other host
 * fails the test. This machine has no internet, so a page that needed a CDN stays blank.
 */

const VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

let server: ChildProcess;
let browser: Browser;
let page: Page;
let origin: string;
const requested: string[] = [];

interface Violation {
  directive: string;
  blocked: string;
}

/** What the policy refused so far: the page records securitypolicyviolation events. */
const violations = () => page.evaluate(() => (window as unknown as { violations: Violation[] }).violations);

/**
 * Scalar's one expected refusal: zod (inside the bundle) tries `Function("")` to see
 * whether it may compile validators, and falls back when it may not.
 */
const isEvalProbe = (violation: Violation) =>
  violation.directive === "script-src" && violation.blocked === "eval";

beforeAll(async () => {
  ({ origin, server } = await startWorker({ state: "e2e-docs-state" }));
  browser = await launchChromium();
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 900 },
  });
  // The context's requests: the page's, its workers' and any it opens.
  context.on("request", (request) => requested.push(request.url()));
  await context.addInitScript(() => {
    const seen: Violation[] = [];
    (window as unknown as { violations: Violation[] }).violations = seen;
    document.addEventListener("securitypolicyviolation", (event) =>
      seen.push({ directive: event.effectiveDirective, blocked: event.blockedURI }),
    );
  });
  page = await context.newPage();
  await page.goto(`${origin}/docs`);
});

afterAll(async () => {
  await browser?.close();
  server?.kill();
});

describe("the API reference, in Chromium, from this Worker alone", () => {
  it("lists the validate operation and shows its path", async () => {
    const operation = page.getByRole("link", { name: /Validate a token \(called by CEC\)/ });
    await operation.first().waitFor({ timeout: 30_000 });
    await operation.first().click();
    await expect.poll(() => page.getByText(VALIDATE_PATH).first().isVisible()).toBe(true);
    await page.screenshot({ path: join(screenshots, "docs-validate.png") });
  });

  it("made every request to this origin", async () => {
    const elsewhere = requested.filter((url) => new URL(url).origin !== origin);
    expect(elsewhere).toEqual([]);
    expect(requested.map((url) => new URL(url).pathname)).toEqual(
      expect.arrayContaining(["/docs", "/openapi.json", expect.stringMatching(/^\/docs\/.+\.js$/)]),
    );
  });

  it("needed nothing its policy refuses", async () => {
    expect((await violations()).filter((violation) => !isEvalProbe(violation))).toEqual([]);
  });
});
