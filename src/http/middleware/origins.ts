import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";

export interface OriginOptions {
  /** ALLOWED_ORIGINS: web origins allowed to call `/v1/*` from a browser. */
  readonly allowedOrigins: ReadonlySet<string>;
}

/**
 * CORS for the enterprise's web origins (ALLOWED_ORIGINS) and nothing for any other:
 * an allowed origin gets the usual answers, with credentials so the session cookie
 * travels; a preflight from any other origin is refused with 403 and no CORS headers.
 */
export function corsForAllowedOrigins(options: OriginOptions): MiddlewareHandler<AppEnv> {
  const allowed = cors({
    origin: (origin) => origin,
    credentials: true,
    allowMethods: ["GET", "POST", "DELETE"],
    allowHeaders: ["Content-Type", "Authorization", "ccmessaging-token", "X-Request-Id"],
    exposeHeaders: ["X-Request-Id"],
    maxAge: 600,
  });
  return async function corsForAllowedOrigins(c, next) {
    const origin = c.req.header("Origin");
    if (origin && options.allowedOrigins.has(origin)) return allowed(c, next);
    if (c.req.method === "OPTIONS" && c.req.header("Access-Control-Request-Method")) {
      return answer(c, "originNotAllowed");
    }
    return next();
  };
}

/**
 * Cross-site request forgery guard for the routes that set or use the session cookie:
 * a state-changing request from a browser must come from this Worker's own origin or an
 * allowed one. Browsers send `Origin` (and `Sec-Fetch-Site`) on such requests; a request
 * with neither is not from a browser page and is left to the route's own checks.
 */
export function requireAllowedOrigin(options: OriginOptions): MiddlewareHandler<AppEnv> {
  return async function requireAllowedOrigin(c, next) {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return next();
    const origin = c.req.header("Origin");
    const sameOrigin = origin === new URL(c.req.url).origin;
    const crossSite = c.req.header("Sec-Fetch-Site") === "cross-site";
    if ((origin && !sameOrigin && !options.allowedOrigins.has(origin)) || (!origin && crossSite)) {
      return answer(c, "originNotAllowed");
    }
    return next();
  };
}
