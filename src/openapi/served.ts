import type { Config } from "../config/config";
import { DEFAULT_VALIDATE_PATH } from "../config/variables";

/** The parts of the document this module changes. */
interface Document {
  readonly paths: Readonly<Record<string, unknown>>;
}

/** Where /docs lives, and everything under it (the reference's script). */
const DOCS_PATH = /^\/docs(\/|$)/;

/**
 * The document the build wrote (src/openapi/generate.ts), made this deployment's: the
 * validate operation under VALIDATE_PATH, and no /docs when DOCS=off. The paths keep
 * their order.
 */
export function servedDocument(canonical: Document, config: Pick<Config, "validatePath" | "docs">): Document {
  const paths = Object.entries(canonical.paths)
    .filter(([path]) => config.docs || !DOCS_PATH.test(path))
    .map(([path, item]) => [path === DEFAULT_VALIDATE_PATH ? config.validatePath : path, item] as const);
  return { ...canonical, paths: Object.fromEntries(paths) };
}
