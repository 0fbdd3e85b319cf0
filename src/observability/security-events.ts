import type { SecurityEventKind } from "../core/decision";
import type { Outcome } from "../core/outcomes";
import { logEvent } from "./log";
import { countSecurityEvent } from "./stats";

/**
 * A "repeated_failures" security event fires when one identity fails this many times
 * within the window, counted per isolate (so a distributed attack may fire it later).
 */
const REPEATED_FAILURE_THRESHOLD = 5;

const REPEATED_FAILURE_WINDOW_MS = 5 * 60 * 1000;

/** Identities tracked at once per isolate; past this the table starts over. */
const REPEATED_FAILURE_TRACKED_MAX = 10_000;

export type { SecurityEventKind };

/** What a finished request or call decided, as the request log has it. */
export interface FinishedDecision {
  requestId: string;
  route: string;
  outcome: Outcome | undefined;
  reason: string | undefined;
  tenant: string | undefined;
  /** Pseudonymised. */
  user: string | undefined;
  /** The caller's address class (src/observability/address-class.ts), never the address. */
  caller: string;
  limiter: string | undefined;
  /** The API key that acted (its name, or its position when unnamed), never the key. */
  apiKey?: string | number | undefined;
  /** The service binding that called, by its `props.name`. */
  binding?: string | undefined;
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

/**
 * Emits the security event a decision carries (as its deciding code marked it), and
 * `repeated_failures` when this isolate has counted enough failures on one identity or
 * address class; each as its own log record.
 */
export function reportSecurityEvents(decision: FinishedDecision, now = Date.now()): SecurityEventKind[] {
  const kinds: SecurityEventKind[] = [];
  const { outcome, reason, route } = decision;
  // Marked by the code that decided (src/core/decision.ts): never inferred from a reason's words.
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
      apiKey: decision.apiKey,
      binding: decision.binding,
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
