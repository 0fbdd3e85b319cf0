import { parseConfig } from "../config/config";
import { openApiDocument } from "./document";

/**
 * The OpenAPI document as the build writes it (scripts/openapi.mjs, into public/openapi.json):
 * every operation, for the default VALIDATE_PATH and with /docs. The Worker serves it
 * from its static assets and adapts it to its own configuration (src/openapi/served.ts), so
 * the code that generates it, zod's JSON Schema converter included, stays out of the bundle.
 */
export async function canonicalDocument(): Promise<string> {
  const config = await parseConfig({ ENVIRONMENT: "development", DOCS: "on" });
  return `${JSON.stringify(openApiDocument(config), null, 2)}\n`;
}
