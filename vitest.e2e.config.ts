import { defineConfig } from "vitest/config";

// `npm run test:e2e`: the playground and /docs in a real browser (Debian's Chromium through
// playwright-core) against `wrangler dev` over HTTPS. Not part of `npm test`.
export default defineConfig({
  test: {
    name: "e2e",
    include: ["e2e/**/*.e2e.ts"],
    environment: "node",
    // Temporary folders (certificates, the Worker's configuration) removed after each file.
    setupFiles: ["test-node/scratch.ts"],
    // One file at a time: each starts its own wrangler dev and Chromium, too much for a
    // small machine at once, and two free-port probes could pick the same port.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
