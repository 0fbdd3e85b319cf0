import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { ensureDevCertificates } from "../scripts/dev-cert.mjs";
import { fixtureConfig } from "../test/fixtures/worker-config.mjs";

/** What the browser tests share: the Worker under `wrangler dev` over HTTPS, and Chromium. */

export const root = join(import.meta.dirname, "..");
export const screenshots = join(root, "e2e-screenshots");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface RunningWorker {
  origin: string;
  server: ChildProcess;
}

/**
 * `wrangler dev` over HTTPS, as `npm run dev:https` runs it, on a free port: on wrangler.toml
 * as shipped and certificates of its own, in temporary folders (never the developer's
 * wrangler.toml, .dev.vars or .certs/). Each test file passes its own state directory.
 */
export async function startWorker(options: {
  state: string;
  vars?: readonly string[];
}): Promise<RunningWorker> {
  const certs = ensureDevCertificates(mkdtempSync(join(tmpdir(), "e2e-certs-")));
  const configPath = fixtureConfig();
  const port = await freePort();
  const server = spawn(
    process.execPath,
    [
      join(root, "node_modules/wrangler/bin/wrangler.js"),
      "dev",
      "--config",
      configPath,
      "--var",
      "ENVIRONMENT:development",
      ...(options.vars ?? []).flatMap((variable) => ["--var", variable]),
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
      join(root, ".wrangler", options.state),
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
  return { origin: `https://localhost:${port}`, server };
}

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
