import type { Context } from "hono";
import { setCookie } from "hono/cookie";
import type { SessionConfig } from "../config/config";

/** The cookie (and request header) name, as CC-Messaging uses it. */
const SESSION_COOKIE = "ccmessaging-token";

/**
 * The credential as presented: every `ccmessaging-token` cookie (a browser sends several
 * when another site of the same domain set one with a more specific path), and (CEC's
 * REST variant) a `ccmessaging-token` request header. Returned raw, still URL-encoded,
 * each value once: decoding is the verifier's first step, as in Huawei's "Web Channel
 * Interface Authentication", and the verifier chooses among them
 * (src/domain/sessions/sessions.ts).
 */
export function presentedSessionValues(request: Request): string[] {
  const values: string[] = [];
  for (const pair of (request.headers.get("Cookie") ?? "").split(";")) {
    const separator = pair.indexOf("=");
    if (separator > 0 && pair.slice(0, separator).trim() === SESSION_COOKIE) {
      const value = pair.slice(separator + 1).trim();
      if (value) values.push(value);
    }
  }
  const header = request.headers.get(SESSION_COOKIE)?.trim();
  if (header) values.push(header);
  return [...new Set(values)];
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
