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
 * these; only infrastructure failures throw (src/core/failures.ts). `reason` is appended to
 * the answer's message and logged: it names fields and variables, never a value.
 */
export interface Refusal {
  readonly outcome: Exclude<Outcome, "ok">;
  readonly reason?: string;
  readonly securityEvent?: SecurityEventKind;
  /** The rate limiter that refused, for the log. */
  readonly limiter?: string;
}

export function refuse(
  outcome: Refusal["outcome"],
  reason?: string,
  facts: Pick<Refusal, "securityEvent" | "limiter"> = {},
): Refusal {
  return { outcome, ...(reason !== undefined && { reason }), ...facts };
}

/** Whether a verdict or result is a refusal. */
export function isRefusal(value: object): value is Refusal {
  return "outcome" in value && value.outcome !== "ok";
}
