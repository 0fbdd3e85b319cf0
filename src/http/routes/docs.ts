import { type Context, Hono } from "hono";
import { devDependencies } from "../../../package.json";
import type { Config } from "../../config/config";
import type { Operation } from "../../openapi/operation";
import { servedDocument } from "../../openapi/served";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";
import { DOCS_POLICY } from "../content-security";

/**
 * Scalar's standalone bundle, served from this Worker's static assets (no CDN): copied from
 * node_modules into public/docs by scripts/docs-assets.mjs, under the version package.json
 * pins exactly (and package-lock.json by hash). The version is in the path, so the file
 * behind a path never changes and browsers may keep it for good.
 */
export const REFERENCE_SCRIPT_PATH = `/docs/scalar-api-reference-${devDependencies["@scalar/api-reference"]}.js`;

/**
 * Scalar's configuration: nothing that reaches beyond this origin. Its defaults would load
 * fonts from fonts.scalar.com, offer "Ask AI" (Scalar's servers) and developer tools on
 * localhost, and a button that opens the document in client.scalar.com.
 */
const REFERENCE_CONFIGURATION = JSON.stringify({
  withDefaultFonts: false,
  agent: { disabled: true },
  showDeveloperTools: "never",
  hideClientButton: true,
  mcp: { disabled: true },
});

/** The interactive reference: Scalar, loaded by the browser, reading /openapi.json. */
const REFERENCE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>cec-edge-token API reference</title>
</head>
<body>
<noscript>The API reference needs JavaScript; the document itself is at <a href="/openapi.json">/openapi.json</a>.</noscript>
<script id="api-reference" data-url="/openapi.json" data-configuration='${REFERENCE_CONFIGURATION}'></script>
<script src="${REFERENCE_SCRIPT_PATH}"></script>
</body>
</html>`;

const PAGE_HEADERS = {
  "Cache-Control": "public, max-age=300",
  "Content-Security-Policy": DOCS_POLICY,
};

/** A year, immutable: a new version of the script is a new path. */
const SCRIPT_CACHE_CONTROL = "public, max-age=31536000, immutable";

/** The document the build wrote into the static assets, adapted to `config`; the asset's 404 when absent. */
async function readDocument(env: Env, config: Config): Promise<Response | object> {
  const fetched = await env.ASSETS.fetch("https://assets.local/openapi.json");
  // Absent only if the build step did not run.
  if (!fetched.ok) return fetched;
  return servedDocument(await fetched.json(), config);
}

/** The script, from the static assets; the binding answers conditional requests (ETag). */
async function referenceScript(c: Context<AppEnv>): Promise<Response> {
  const fetched = await c.env.ASSETS.fetch(c.req.raw);
  // Absent only if the build step did not run: this service's 404, not the binding's empty one.
  if (fetched.status === 404) return answer(c, "notFound");
  // The binding's headers are immutable, and its Cache-Control asks to revalidate every time.
  const response = new Response(fetched.body, fetched);
  response.headers.set("Cache-Control", SCRIPT_CACHE_CONTROL);
  return response;
}

/**
 * `GET /openapi.json` (OpenAPI 3.1, generated from the zod schemas when the Worker is
 * built: scripts/openapi.mjs) and, unless DOCS=off, `GET /docs` with its script.
 */
export function docsRoute(config: Config) {
  // Read and adapted once per configuration (one per isolate), on first request.
  let document: Promise<Response | object> | undefined;
  const route = new Hono<AppEnv>().get("/openapi.json", async (c) => {
    document ??= readDocument(c.env, config);
    const served = await document;
    if (served instanceof Response) {
      document = undefined; // the build step's file may appear (wrangler dev rebuilds): look again next time
      return answer(c, "notFound");
    }
    return c.json(served, 200, { "Cache-Control": "public, max-age=300" });
  });
  if (config.docs)
    route
      .get("/docs", (c) => c.html(REFERENCE_PAGE, 200, PAGE_HEADERS))
      .get(REFERENCE_SCRIPT_PATH, referenceScript);
  return route;
}

export const docsOperations = (config: Config): readonly Operation[] => [
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    description: "Generated from the routes' declarations when the Worker is built (public/openapi.json).",
    security: "none",
    success: { 200: { description: "OpenAPI 3.1" } },
    // Only where the build step (scripts/openapi.mjs) did not run.
    refusals: ["notFound"],
  },
  ...(config.docs
    ? [
        {
          method: "get",
          path: "/docs",
          summary: "The interactive reference (HTML)",
          security: "none",
          success: { 200: { description: "The page" } },
          refusals: [],
        } as const,
        {
          method: "get",
          path: REFERENCE_SCRIPT_PATH,
          summary: "The interactive reference's script",
          description:
            "Scalar's standalone bundle, from this Worker's static assets; its version is in the path.",
          security: "none",
          success: {
            200: {
              description: "JavaScript",
              headers: {
                "Cache-Control": `${SCRIPT_CACHE_CONTROL}: the bytes behind this path never change`,
                ETag: "Names these bytes, for If-None-Match",
              },
            },
            304: { description: "Not modified (If-None-Match)" },
          },
          // Only where the build step (scripts/docs-assets.mjs) did not run.
          refusals: ["notFound"],
        } as const,
      ]
    : []),
];
