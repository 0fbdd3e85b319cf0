import type { Outcome } from "./outcomes";

/**
 * A security event, marked by the code that decided, never inferred from a message:
 * rewording a reason cannot silence an alert (src/observability/security-events.ts).
 */
export type SecurityEventKind =
  /** A token or identity token signed under a `kid` we do not hold. */
  | "unknown_kid"
  /** A `ccmessaging-token` value that is not one we made. */
  | "forged_session_value"
  /** Several `ccmessaging-token` values we made, presented at once: which one is the visitor's cannot be told. */
  | "ambiguous_session_value"
  /** A revoked token, or a token or session of a revoked user. */
  | "revoked_token_presented"
  /** An identity token issued at or before its user's revocation, presented to get a token. */
  | "revoked_identity_presented"
  | "rate_limit_hit"
  /** Counted by the observer: several failures on one identity or address class. */
  | "repeated_failures"
  /** An identity token no key can verify: no single key matches, or a header the verifier does not support. */
  | "identity_token_unusable"
  /** An Authorization header that holds no accepted API key (the key itself is never logged). */
  | "api_key_rejected";

/**
 * A decision not to serve, as a value: domain functions and boundary checks return
 * these; only failures throw (src/core/failures.ts). `reason` is appended to the
 * answer's message and logged: it names fields and variables, never a value.
 */
export interface Refusal {
  readonly outcome: Exclude<Outcome, "ok">;
  readonly reason?: string;
  readonly securityEvent?: SecurityEventKind;
  /** The rate limiter that refused, for the log. */
  readonly limiter?: string;
}

/**
 * What every check, every domain function and every front door answers: go on with a
 * value, or a refusal. The one name for "ok or a refusal" in this codebase.
 */
export type Decision<T> = { readonly outcome: "ok"; readonly value: T } | Refusal;

export function ok<T>(value: T): { readonly outcome: "ok"; readonly value: T } {
  return { outcome: "ok", value };
}

export function refuse(
  outcome: Refusal["outcome"],
  reason?: string,
  facts: Pick<Refusal, "securityEvent" | "limiter"> = {},
): Refusal {
  return { outcome, ...(reason !== undefined && { reason }), ...facts };
}
