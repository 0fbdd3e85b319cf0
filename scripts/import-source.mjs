// The Node tools run the Worker's own TypeScript (the configuration parser, the OpenAPI
// generator) rather than a copy of its rules: each module is bundled with esbuild into
// node_modules/.cache and imported.
import { mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "..");

/** Imports `entry` (a path under the repository, such as "src/config/config.ts"), bundled. */
export async function importSource(entry, cacheFolder) {
  const { build } = await import("esbuild");
  // One file per process: runs side by side never read each other's half-written bundle.
  const outfile = join(
    root,
    "node_modules",
    ".cache",
    cacheFolder,
    `bundle-${process.pid}-${Date.now()}.mjs`,
  );
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    target: "es2022",
    outfile,
    logLevel: "error",
  });
  try {
    return await import(pathToFileURL(outfile).href);
  } finally {
    rmSync(outfile, { force: true });
  }
}
