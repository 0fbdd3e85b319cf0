import type { Context } from "hono";
import type { AppEnv } from "../app-env";
import { KvFailure } from "../kv";
import { note } from "../observability/audit";
import { logEvent } from "../observability/log";
import { type Outcome, RET_CODES, retCodeBody, ServiceError } from "../ret-codes";
import { JSON_POLICY } from "./content-security";

/** Answers that carry credentials or verdicts about them are never cached. */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

/** Seconds a client should wait before retrying a 429 or 503. */
const RETRY_AFTER_SECONDS = {
  rateLimited: 60,
  serviceUnavailable: 1,
  misconfigured: 60,
  identityProviderUnavailable: 5,
} as const;

interface AnswerOptions {
  /** Appended to the message: which field or variable, never a submitted value. */
  detail?: string;
  /** Overrides the table's status (200 for verdicts on the validate route; 413; 415). */
  status?: number;
}

/**
 * The one place an outcome becomes an HTTP answer: the table's status (or the
 * more precise one given), a `{retCode, message}` body, and Retry-After where it helps.
 */
export function retCodeResponse(outcome: Outcome, options: AnswerOptions = {}): Response {
  // With its policy: an answer made outside the app (a configuration error) has no middleware.
  const headers: Record<string, string> = { ...NO_STORE, "Content-Security-Policy": JSON_POLICY };
  if (outcome in RETRY_AFTER_SECONDS) {
    headers["Retry-After"] = String(RETRY_AFTER_SECONDS[outcome as keyof typeof RETRY_AFTER_SECONDS]);
  }
  if (outcome === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="cec-edge-token"';
  return Response.json(retCodeBody(outcome, options.detail), {
    status: options.status ?? RET_CODES[outcome].status,
    headers,
  });
}

/** retCodeResponse, with the outcome noted for the request log. */
export function respond(c: Context<AppEnv>, outcome: Outcome, options: AnswerOptions = {}): Response {
  note(c, { outcome, reason: options.detail ?? RET_CODES[outcome].message });
  return retCodeResponse(outcome, options);
}

/** Maps anything thrown to a documented answer; the unexpected is logged without its stack. */
export function errorResponse(error: unknown, c: Context<AppEnv>): Response {
  if (error instanceof ServiceError) {
    if (error instanceof KvFailure) {
      logEvent("error", "kv_failure", {
        requestId: c.var.requestId,
        operation: error.operation,
        failure: error.failure,
      });
    }
    note(c, { limiter: error.limiter, securityEvent: error.securityEvent });
    return respond(c, error.outcome, { detail: error.detail, status: error.status });
  }
  logEvent("error", "unexpected_error", {
    requestId: c.var.requestId,
    error: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
  });
  return respond(c, "serviceUnavailable");
}
