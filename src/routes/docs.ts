import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { openApiDocument } from "../openapi/document";

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
<script src="https://cdn.jsdelivr.net/npm/@scalar/api-reference@1.72.1"></script>
</body>
</html>`;

/** `GET /openapi.json` (OpenAPI 3.1, generated from the zod schemas) and `GET /docs`. */
export function docsRoute(config: Config) {
  let document: ReturnType<typeof openApiDocument> | undefined;
  return new Hono<AppEnv>()
    .get("/openapi.json", (c) => {
      document ??= openApiDocument(config);
      return c.json(document, 200, { "Cache-Control": "public, max-age=300" });
    })
    .get("/docs", (c) => c.html(REFERENCE_PAGE, 200, { "Cache-Control": "public, max-age=300" }));
}
