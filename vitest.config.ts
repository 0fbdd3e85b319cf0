import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
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
            // The production config, so tests exercise the real bindings; only the
            // variables and secrets below differ.
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: { bindings: TEST_BINDINGS },
          }),
        ],
        test: { name: "workers", include: ["test/**/*.test.ts"] },
      },
      {
        // The tools that run on Node: the OpenAPI validator, the certificate tool, the CEC simulator.
        test: { name: "node", include: ["test-node/**/*.test.ts"], environment: "node" },
      },
    ],
  },
});
