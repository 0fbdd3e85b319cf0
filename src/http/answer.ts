import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { type Refusal, refuse } from "../core/decision";
import { failureRefusal } from "../core/failures";
import { OUTCOMES, type Outcome, type OutcomeRow, retCodeBody, type Surface } from "../core/outcomes";
import { note } from "../observability/audit";
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

/** Answers a refusal (or a bare outcome) on this request's surface, noting it for the request log. */
export function answer(c: Context<AppEnv>, refusal: Refusal | Outcome): Response {
  const { outcome, reason, securityEvent, limiter }: Omit<Refusal, "outcome"> & { outcome: Outcome } =
    typeof refusal === "string" ? { outcome: refusal } : refusal;
  note(c.var.audit, { outcome, reason: reason ?? OUTCOMES[outcome].message, securityEvent, limiter });
  return outcomeResponse(outcome, c.var.surface ?? "api", reason);
}

/**
 * What an HTTPException (thrown by Hono's own middleware: csrf's 403, a body limit's 413)
 * means here, by its status. Any other client error is a malformed request; a server
 * error that says the call ran out of time is a dependency unavailable (503), any other
 * is a bug.
 */
const HTTP_EXCEPTIONS: Readonly<Record<number, Exclude<Outcome, "ok">>> = {
  400: "malformedRequest",
  401: "unauthorized",
  403: "notPermitted",
  404: "notFound",
  405: "notFound",
  413: "bodyTooLarge",
  415: "unsupportedMediaType",
  429: "rateLimited",
  503: "serviceUnavailable",
  504: "serviceUnavailable",
};

/**
 * The app's `onError`: Hono's HTTPException keeps its meaning (HTTP_EXCEPTIONS);
 * everything else is sorted by the one classifier (src/core/failures.ts): a dependency
 * unavailable is 503 with Retry-After, anything else a bug, 500, logged with its stack,
 * which never reaches the answer.
 */
export function answerError(error: unknown, c: Context<AppEnv>): Response {
  if (error instanceof HTTPException) {
    const outcome = HTTP_EXCEPTIONS[error.status] ?? (error.status < 500 ? "malformedRequest" : undefined);
    if (outcome) return answer(c, refuse(outcome));
  }
  return answer(c, failureRefusal(error, { requestId: c.var.requestId }));
}
