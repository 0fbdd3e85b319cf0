import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { ensureDevCertificates } from "../scripts/dev-cert.mjs";
import { fixtureConfig } from "../test/fixtures/worker-config.mjs";

/**
 * The Worker under `wrangler dev` over HTTPS, as `npm run dev:https` runs it: shared by the
 * browser tests (e2e/) and the Node tests that need a real dev server (test-node/onboard).
 */

export const root = join(import.meta.dirname, "..");

export function freePort(): Promise<number> {
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
  /** The folder of the local CA and the localhost certificate the server presents. */
  certs: string;
}

/**
 * `wrangler dev` over HTTPS, as `npm run dev:https` runs it, on a free port: on wrangler.toml
 * as shipped and certificates of its own, in temporary folders (never the developer's
 * wrangler.toml, .dev.vars or .certs/). Each test file passes its own state directory: a
 * name under .wrangler/, or an absolute path.
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
      isAbsolute(options.state) ? options.state : join(root, ".wrangler", options.state),
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
  return { origin: `https://localhost:${port}`, server, certs };
}
