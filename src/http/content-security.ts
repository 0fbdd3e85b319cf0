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
 * `/docs`: Scalar's script, /openapi.json and "try it" calls, all from this origin; fonts and
 * images from nowhere else (none are served today: Scalar runs with its default fonts off).
 * Styles also need 'unsafe-inline', honestly: the bundle writes its CSS as <style> elements,
 * some generated in the browser (the request editor's, CodeMirror's), and sets style
 * attributes (code blocks' line counts), so neither hashes nor a nonce cover them (seen in
 * Chromium with Scalar 1.72.1: with `style-src 'self'` plus hashes of the static ones, the
 * "try it" editor breaks). Inline CSS cannot run script, and with img-src and font-src
 * 'self' it cannot send what it matches to another host. Scalar's feature test for eval
 * (zod's) is refused and falls back, so no 'unsafe-eval'.
 */
export const DOCS_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "font-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Every answer that did not set its own policy gets JSON_POLICY. */
export const defaultContentSecurityPolicy: MiddlewareHandler = async (c, next) => {
  await next();
  // In place, like X-Request-Id: c.header() would copy a finished Response first.
  if (!c.res.headers.has("Content-Security-Policy"))
    c.res.headers.set("Content-Security-Policy", JSON_POLICY);
};
