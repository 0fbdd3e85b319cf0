import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { type Refusal, refuse } from "../core/decision";
import { InfrastructureFailure } from "../core/failures";
import { OUTCOMES, type Outcome, type OutcomeRow, retCodeBody, type Surface } from "../core/outcomes";
import { note } from "../observability/audit";
import { logEvent } from "../observability/log";
import type { AppEnv } from "./app-env";
import { JSON_POLICY } from "./content-security";

/** Answers that carry credentials or verdicts about them are never cached. */
export const NO_STORE = { "Cache-Control": "no-store" } as const;

/**
 * The one function that turns an outcome into an HTTP answer: the table's status for
 * the surface, a `{retCode, message}` body, and the table's headers. Usable outside the
 * app too (a configuration error answers before there is one).
 */
export function outcomeResponse(outcome: Outcome, surface: Surface = "api", detail?: string): Response {
  const row: OutcomeRow = OUTCOMES[outcome];
  // With its policy: an answer made outside the app has no middleware to add it.
  const headers: Record<string, string> = { ...NO_STORE, "Content-Security-Policy": JSON_POLICY };
  if (row.retryAfterSeconds !== undefined) headers["Retry-After"] = String(row.retryAfterSeconds);
  if (row.challenge !== undefined) headers["WWW-Authenticate"] = row.challenge;
  return Response.json(retCodeBody(outcome, detail), { status: row.status[surface], headers });
}

/** Answers a verdict (or a bare outcome) on this request's surface, noting it for the request log. */
export function answer(c: Context<AppEnv>, verdict: Refusal | Outcome): Response {
  const { outcome, reason, securityEvent, limiter }: Omit<Refusal, "outcome"> & { outcome: Outcome } =
    typeof verdict === "string" ? { outcome: verdict } : verdict;
  note(c, { outcome, reason: reason ?? OUTCOMES[outcome].message, securityEvent, limiter });
  return outcomeResponse(outcome, c.var.surface ?? "api", reason);
}

/** Statuses Hono's own middleware throws as HTTPException, and what they are here. */
const HTTP_EXCEPTIONS: Readonly<Record<number, Exclude<Outcome, "ok">>> = {
  400: "malformedRequest",
  401: "unauthorized",
  404: "notFound",
  413: "bodyTooLarge",
  415: "unsupportedMediaType",
};

/**
 * The app's `onError`. A dependency that failed is a known-transient 503 with
 * Retry-After; Hono's HTTPException keeps its meaning; anything else is a bug: 500,
 * no Retry-After (retrying cannot help), logged with its stack, which never reaches the
 * answer.
 */
export function answerError(error: unknown, c: Context<AppEnv>): Response {
  if (error instanceof InfrastructureFailure) {
    logEvent("error", error.event, {
      requestId: c.var.requestId,
      operation: error.operation,
      failure: error.failure,
    });
    return answer(c, refuse(error.outcome));
  }
  if (error instanceof HTTPException && error.status < 500) {
    return answer(c, refuse(HTTP_EXCEPTIONS[error.status] ?? "malformedRequest"));
  }
  logEvent("error", "unexpected_error", {
    requestId: c.var.requestId,
    error: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
    stack: error instanceof Error ? error.stack : undefined,
  });
  return answer(c, "internalError");
}
