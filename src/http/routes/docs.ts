import { Hono } from "hono";
import type { Config } from "../../config/config";
import { openApiDocument } from "../../openapi/document";
import type { Operation } from "../../openapi/operation";
import type { AppEnv } from "../app-env";
import { docsPolicy } from "../content-security";

/**
 * Scalar's standalone bundle, one exact file of one exact version, pinned by Subresource
 * Integrity: if the CDN ever serves other bytes, the browser refuses to run them. The hash
 * is of `dist/browser/standalone.js` in the npm tarball of @scalar/api-reference@1.72.1
 * (`npm pack`, then `openssl dgst -sha384 -binary | openssl base64 -A`); jsDelivr serves
 * an explicit file path byte for byte.
 */
const REFERENCE_SCRIPT =
  "https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.72.1/dist/browser/standalone.js";
const REFERENCE_SCRIPT_INTEGRITY = "sha384-U11tb2XnKvmwt8RlTvnwUnYgrN+ur4Xyh9htLhjajWNR/Oyl5AX5DEz00qRmlrmK";

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
<script id="api-reference" data-url="/openapi.json"></script>
<script src="${REFERENCE_SCRIPT}" integrity="${REFERENCE_SCRIPT_INTEGRITY}" crossorigin="anonymous"></script>
</body>
</html>`;

const PAGE_HEADERS = {
  "Cache-Control": "public, max-age=300",
  "Content-Security-Policy": docsPolicy(REFERENCE_SCRIPT),
};

/**
 * `GET /openapi.json` (OpenAPI 3.1, generated from the zod schemas) and, unless DOCS=off,
 * `GET /docs`.
 */
export function docsRoute(config: Config) {
  let document: ReturnType<typeof openApiDocument> | undefined;
  const route = new Hono<AppEnv>().get("/openapi.json", (c) => {
    document ??= openApiDocument(config);
    return c.json(document, 200, { "Cache-Control": "public, max-age=300" });
  });
  if (config.docs) route.get("/docs", (c) => c.html(REFERENCE_PAGE, 200, PAGE_HEADERS));
  return route;
}

export const docsOperations = (config: Config): readonly Operation[] => [
  {
    method: "get",
    path: "/openapi.json",
    summary: "This document",
    security: "none",
    success: { 200: { description: "OpenAPI 3.1" } },
    refusals: [],
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
      ]
    : []),
];
