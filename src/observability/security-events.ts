import {
  REPEATED_FAILURE_THRESHOLD,
  REPEATED_FAILURE_TRACKED_MAX,
  REPEATED_FAILURE_WINDOW_MS,
} from "../constants";
import type { Outcome } from "../ret-codes";
import { UNKNOWN_KID } from "../tokens/token";
import { REVOKED, USER_REVOKED } from "../tokens/validate-token";
import { logEvent } from "./log";
import { countSecurityEvent } from "./stats";

export type SecurityEventKind =
  | "unknown_kid"
  | "forged_session_value"
  | "revoked_token_presented"
  | "rate_limit_hit"
  | "repeated_failures"
  /** An identity token no key can verify: no single key matches, or a header the verifier does not support. */
  | "identity_token_unusable"
  /** An Authorization header that holds no accepted API key (the key itself is never logged). */
  | "api_key_rejected";

/** What a finished request decided, as the request log has it. */
export interface Decision {
  requestId: string;
  route: string;
  outcome: Outcome | undefined;
  reason: string | undefined;
  tenant: string | undefined;
  /** Pseudonymised. */
  user: string | undefined;
  /** The caller's address class (src/observability/caller.ts), never the address. */
  caller: string;
  limiter: string | undefined;
  /** Marked by the code that decided (src/observability/audit.ts). */
  securityEvent: SecurityEventKind | undefined;
}

/** The verdicts that count as a failed attempt on an identity. */
const FAILED_ATTEMPTS = new Set<Outcome>([
  "tokenInvalid",
  "tokenExpired",
  "identityMismatch",
  "tokenRevoked",
]);

/**
 * Failures per pseudonymised identity (or, for API keys, per `api-key:<address class>`),
 * in this isolate: first failure time and count.
 */
const failures = new Map<string, { since: number; count: number }>();

/** Emits the security events a decision carries, each as its own log record. */
export function reportSecurityEvents(decision: Decision, now = Date.now()): SecurityEventKind[] {
  const kinds: SecurityEventKind[] = [];
  const { outcome, reason, route } = decision;
  // Our tokens (tokenInvalid) and enterprise identity tokens (identityInvalid) alike.
  if ((outcome === "tokenInvalid" || outcome === "identityInvalid") && reason === UNKNOWN_KID) {
    kinds.push("unknown_kid");
  }
  if (
    outcome === "tokenInvalid" &&
    route.startsWith("/v1/web-channel") &&
    reason?.startsWith("session value")
  ) {
    kinds.push("forged_session_value");
  }
  if (outcome === "tokenRevoked" && (reason === REVOKED || reason === USER_REVOKED)) {
    kinds.push("revoked_token_presented");
  }
  if (outcome === "rateLimited") kinds.push("rate_limit_hit");
  if (decision.securityEvent) kinds.push(decision.securityEvent);
  if (outcome && FAILED_ATTEMPTS.has(outcome) && decision.user && countFailure(decision.user, now)) {
    kinds.push("repeated_failures");
  }
  // API-key guesses name no user: counted per address class instead.
  if (decision.securityEvent === "api_key_rejected" && countFailure(`api-key:${decision.caller}`, now)) {
    kinds.push("repeated_failures");
  }
  for (const kind of kinds) {
    countSecurityEvent(kind);
    logEvent("warn", "security", {
      kind,
      requestId: decision.requestId,
      route,
      reason,
      tenant: decision.tenant,
      user: decision.user,
      caller: decision.caller,
      limiter: decision.limiter,
      ...(kind === "repeated_failures" && {
        failures: REPEATED_FAILURE_THRESHOLD,
        withinSeconds: REPEATED_FAILURE_WINDOW_MS / 1000,
      }),
    });
  }
  return kinds;
}

/** True exactly when this failure is the one that reaches the threshold within the window. */
function countFailure(user: string, now: number): boolean {
  let entry = failures.get(user);
  if (!entry || now - entry.since > REPEATED_FAILURE_WINDOW_MS) {
    // Bounded memory: an attacker spraying identities cannot grow the map without limit.
    if (failures.size >= REPEATED_FAILURE_TRACKED_MAX) failures.clear();
    entry = { since: now, count: 0 };
    failures.set(user, entry);
  }
  entry.count += 1;
  return entry.count === REPEATED_FAILURE_THRESHOLD;
}
