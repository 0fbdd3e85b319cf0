import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { TEST_BINDINGS } from "./test/test-env.ts";

export default defineConfig({
  plugins: [
    cloudflareTest({
      // The production config, so tests exercise the real bindings (KV, rate limits);
      // only the variables and secrets below differ.
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: TEST_BINDINGS },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
  },
});
