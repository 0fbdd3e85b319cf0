import type { Context } from "hono";
import { ConfigError } from "../config/config";
import { KvFailure } from "../kv";
import { type Outcome, RET_CODES, retCodeBody, ServiceError } from "../ret-codes";
import { logEvent } from "./log";

/** Answers that carry credentials or verdicts about them are never cached. */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

/** Seconds a client should wait before retrying a 429 or 503. */
const RETRY_AFTER_SECONDS = { rateLimited: 60, serviceUnavailable: 1, misconfigured: 60 } as const;

/**
 * The one place an outcome becomes an HTTP answer: the table's status (or the
 * more precise one given), a `{retCode, message}` body, and Retry-After where it helps.
 */
export function retCodeResponse(
  outcome: Outcome,
  options: { detail?: string; status?: number } = {},
): Response {
  const headers: Record<string, string> = { ...NO_STORE };
  if (outcome in RETRY_AFTER_SECONDS) {
    headers["Retry-After"] = String(RETRY_AFTER_SECONDS[outcome as keyof typeof RETRY_AFTER_SECONDS]);
  }
  if (outcome === "unauthorized") headers["WWW-Authenticate"] = 'Bearer realm="cec-edge-token"';
  return Response.json(retCodeBody(outcome, options.detail), {
    status: options.status ?? RET_CODES[outcome].status,
    headers,
  });
}

/** Maps anything thrown to a documented answer; the unexpected is logged without its stack. */
export function errorResponse(error: unknown, c?: Context): Response {
  if (error instanceof KvFailure) {
    logEvent("error", "kv_failure", {
      operation: error.operation,
      failure: error.failure,
      path: c?.req.path,
    });
  }
  if (error instanceof ServiceError) {
    return retCodeResponse(error.outcome, { detail: error.detail, status: error.status });
  }
  if (error instanceof ConfigError) {
    return retCodeResponse("misconfigured", { detail: error.message });
  }
  logEvent("error", "unexpected_error", {
    path: c?.req.path,
    error: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
  });
  return retCodeResponse("serviceUnavailable");
}
