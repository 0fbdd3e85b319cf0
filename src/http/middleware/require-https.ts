import type { MiddlewareHandler } from "hono";
import { logEvent } from "../../observability/log";
import { outcomeResponse } from "../answer";
import type { AppEnv } from "../app-env";

/**
 * In production and staging, plain HTTP is refused: the validate API carries tokens,
 * and Huawei asks for HTTPS. A browser's GET or HEAD is redirected to the same URL over
 * HTTPS; anything else gets 403 retCode 16, since replaying a body after a redirect would
 * already have sent it in the clear. HSTS (from secureHeaders) keeps browsers on HTTPS.
 */
export function requireHttps(options: { readonly enforced: boolean }): MiddlewareHandler<AppEnv> {
  return async function requireHttps(c, next) {
    if (!options.enforced || c.req.url.startsWith("https:")) return next();
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      const url = new URL(c.req.url);
      url.protocol = "https:";
      return c.redirect(url.toString(), 301);
    }
    // First in the chain, before the request log: logged here, since a caller configured
    // with an http:// URL (CEC, a backend) is worth an operator's attention.
    logEvent("warn", "plain_http_refused", { method: c.req.method });
    return outcomeResponse("httpsRequired", "api", "resend this request over https://");
  };
}
