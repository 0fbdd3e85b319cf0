import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { root } from "./dev-worker";

/** What the browser tests share: the Worker under `wrangler dev` over HTTPS (./dev-worker), and Chromium. */

export { type RunningWorker, root, startWorker } from "./dev-worker";
export const screenshots = join(root, "e2e-screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Debian's Chromium, as this machine's probe starts it: no sandbox as root, nothing that phones home. */
export function launchChromium(): Promise<Browser> {
  mkdirSync(screenshots, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
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
}
