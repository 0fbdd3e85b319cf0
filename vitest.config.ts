import { execFileSync } from "node:child_process";
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { fixtureConfig } from "./test/fixtures/worker-config.mjs";
import { TEST_BINDINGS } from "./test/test-env.ts";

// The static assets the build generates (/docs's script, /openapi.json): the commands
// wrangler's [build] runs for dev and deploy.
for (const script of ["scripts/docs-assets.mjs", "scripts/openapi.mjs"]) {
  execFileSync(process.execPath, [script], { cwd: import.meta.dirname, stdio: "inherit" });
}

export default defineConfig({
  test: {
    // What a person reads: a dot per test, then the failures in full and a summary. The
    // Worker logs a line per request: shown only for a test that fails.
    reporters: ["dot"],
    silent: "passed-only",
    projects: [
      {
        // HTTP behaviour, inside workerd, on real local KV and rate limiters.
        plugins: [
          cloudflareTest({
            // wrangler.toml as shipped (test/fixtures/wrangler.toml), so tests exercise the
            // real bindings, copied to a temporary folder: never the developer's own
            // wrangler.toml or the .dev.vars beside it. Only the variables and secrets below differ.
            wrangler: { configPath: fixtureConfig() },
            miniflare: { bindings: TEST_BINDINGS },
          }),
        ],
        test: { name: "workers", include: ["test/**/*.test.ts"] },
      },
      {
        // The tools that run on Node: the OpenAPI validator, the certificate tool, the CEC
        // simulator, preflight, deploy and keys, each on fixtures in temporary folders.
        test: {
          name: "node",
          include: ["test-node/**/*.test.ts"],
          environment: "node",
          setupFiles: ["test-node/setup.ts"],
        },
      },
    ],
  },
});
