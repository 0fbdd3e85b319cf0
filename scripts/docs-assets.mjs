#!/usr/bin/env node
// Puts the API reference's script (Scalar's standalone bundle) among the Worker's static
// assets: public/docs/scalar-api-reference-<version>.js, copied from node_modules, so /docs
// loads nothing from a CDN. Generated and gitignored (4 MB): wrangler runs this as its
// [build] command (dev, deploy, deploy --dry-run), vitest.config.ts before the tests.
// The version is package.json's exact devDependency, which src/http/routes/docs.ts reads too;
// a node_modules holding another version is refused rather than copied under that name.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(import.meta.dirname, "..");
const PACKAGE = "@scalar/api-reference";
const outputDirectory = join(root, "public", "docs");

const readJson = (path) => JSON.parse(readFileSync(path, "utf8"));

/** Copies the bundle unless an identical copy is there already; returns its asset path. */
export function copyReferenceScript() {
  const pinned = readJson(join(root, "package.json")).devDependencies?.[PACKAGE];
  if (!/^\d+\.\d+\.\d+$/.test(pinned ?? ""))
    throw new Error(`package.json must pin ${PACKAGE} to an exact version, found ${pinned}`);
  const installedDirectory = join(root, "node_modules", PACKAGE);
  const installed = readJson(join(installedDirectory, "package.json")).version;
  if (installed !== pinned)
    throw new Error(`node_modules has ${PACKAGE}@${installed}, package.json pins ${pinned}: run npm ci`);

  const source = join(installedDirectory, "dist", "browser", "standalone.js");
  const name = `scalar-api-reference-${pinned}.js`;
  const target = join(outputDirectory, name);
  mkdirSync(outputDirectory, { recursive: true });
  // The directory is ours alone: an older version's copy goes.
  for (const entry of readdirSync(outputDirectory))
    if (entry !== name) rmSync(join(outputDirectory, entry), { recursive: true });
  // Rewriting unchanged bytes would make `wrangler dev` reload its assets for nothing.
  if (!sameFile(source, target)) copyFileSync(source, target);
  return `/docs/${name}`;
}

function sameFile(a, b) {
  try {
    return statSync(a).size === statSync(b).size && readFileSync(a).equals(readFileSync(b));
  } catch {
    return false;
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(`docs-assets: public${copyReferenceScript()}`);
  } catch (error) {
    console.error(`docs-assets: ${error.message}`);
    process.exit(1);
  }
}
