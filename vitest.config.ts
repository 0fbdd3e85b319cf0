import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { fixtureConfig } from "./test/fixtures/worker-config.mjs";
import { TEST_BINDINGS } from "./test/test-env.ts";

export default defineConfig({
  test: {
    // The Worker logs a line per request: shown only for a test that fails.
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
