import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import type { SessionConfig } from "../config/config";

/** The cookie (and request header) name, as CC-Messaging uses it. */
const SESSION_COOKIE = "ccmessaging-token";

/**
 * The credential as presented: the `ccmessaging-token` cookie, or (CEC's REST variant)
 * a `ccmessaging-token` request header. Returned raw, still URL-encoded: decoding is
 * the verifier's first step, as in Huawei's "Web Channel Interface Authentication".
 */
export function presentedSessionValue(request: Request): string | undefined {
  for (const pair of (request.headers.get("Cookie") ?? "").split(";")) {
    const separator = pair.indexOf("=");
    if (separator > 0 && pair.slice(0, separator).trim() === SESSION_COOKIE) {
      const value = pair.slice(separator + 1).trim();
      if (value) return value;
    }
  }
  return request.headers.get(SESSION_COOKIE)?.trim() || undefined;
}

/**
 * Sets the cookie: always `Secure` and `Path=/`, `Max-Age` the session's remaining life,
 * and `SameSite`, `HttpOnly`, `Partitioned` and `Domain` from the configuration. Hono
 * URL-encodes the Base64 value, which is Huawei's format (docs/cec-contract.md).
 */
export function setSessionCookie(c: Context, config: SessionConfig, value: string, maxAgeSeconds: number) {
  setCookie(c, SESSION_COOKIE, value, {
    path: "/",
    secure: true,
    httpOnly: config.cookie.httpOnly,
    sameSite: config.cookie.sameSite,
    partitioned: config.cookie.partitioned,
    domain: config.cookie.domain,
    maxAge: Math.max(0, Math.floor(maxAgeSeconds)),
  });
}

/** Tells the browser to drop the cookie: same attributes, so it matches, with Max-Age=0. */
export function clearSessionCookie(c: Context, config: SessionConfig) {
  setSessionCookie(c, config, "", 0);
}
