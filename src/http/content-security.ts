import type { MiddlewareHandler } from "hono";

/**
 * Content-Security-Policy values. A JSON answer is never a document to render: it may
 * load nothing and be framed by nobody. The HTML pages get their own, as narrow as the
 * page allows.
 */
export const JSON_POLICY = "default-src 'none'; frame-ancestors 'none'";

/** `/playground`: its own script, style and API only (public/playground has no inline code). */
export const PLAYGROUND_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/**
 * `/docs`: the one pinned script (also checked by its integrity hash), the inline styles
 * and fonts it uses, and this origin for /openapi.json and "try it" calls.
 */
export function docsPolicy(scriptUrl: string): string {
  return [
    "default-src 'none'",
    `script-src ${scriptUrl}`,
    "style-src 'unsafe-inline'",
    "font-src https://fonts.scalar.com",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Every answer that did not set its own policy gets JSON_POLICY. */
export const defaultContentSecurityPolicy: MiddlewareHandler = async (c, next) => {
  await next();
  // In place, like X-Request-Id: c.header() would copy a finished Response first.
  if (!c.res.headers.has("Content-Security-Policy"))
    c.res.headers.set("Content-Security-Policy", JSON_POLICY);
};
