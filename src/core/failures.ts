import { logEvent } from "../observability/log";
import { type Refusal, refuse } from "./decision";

/**
 * Failures, sorted by what they are, not by where they happen. One classifier for the
 * HTTP routes, the RPC entrypoint and configuration loading:
 * - a dependency that could not answer now (its deadline passed, or the runtime marks
 *   its error transient) is `Unavailable`: 503 with Retry-After, since a retry can work;
 * - anything else (a stored value of the wrong shape, a missing binding that slipped past
 *   the configuration check, any bug) is 500 without Retry-After, because it would fail
 *   again; it is logged once with its message and stack, which never reach an answer.
 */

/** What a dependency is called in the log. */
export type Dependency = "kv" | "ledger" | "identity-provider";

/** A dependency that could not answer now. The only failure a retry can mend. */
export class Unavailable extends Error {
  override readonly name = "Unavailable";

  constructor(
    readonly dependency: Dependency,
    /** What was being done, for the log: "read token record". */
    readonly operation: string,
    /** What went wrong, for the log, never a submitted value: "timed out", "overloaded". */
    readonly failure: string,
    readonly outcome: Extract<
      Refusal["outcome"],
      "serviceUnavailable" | "identityProviderUnavailable"
    > = dependency === "identity-provider" ? "identityProviderUnavailable" : "serviceUnavailable",
  ) {
    super(`${dependency}: ${operation}: ${failure}`);
  }
}

/**
 * KV's runtime errors carry the storage service's HTTP status ("KV GET failed: 503
 * Service Unavailable", "KV PUT failed: 429 Too Many Requests"): 429 and 5xx are the
 * service's passing trouble, any other status a request that would fail again.
 */
const KV_STATUS = /^KV [A-Z]+ failed: (\d{3})\b/;

/**
 * Why the runtime considers `error` transient, in words fit for a log, or undefined when
 * it does not: Durable Object errors flagged `overloaded` or `retryable`, a network
 * connection lost, a KV status of 429 or 5xx.
 */
export function transientFailure(error: unknown): string | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { overloaded, retryable, message } = error as {
    overloaded?: unknown;
    retryable?: unknown;
    message?: unknown;
  };
  if (overloaded === true) return "overloaded";
  if (retryable === true) return "unreachable (retryable)";
  if (typeof message !== "string") return undefined;
  if (/^Network connection lost/i.test(message)) return "network connection lost";
  const status = Number(KV_STATUS.exec(message)?.[1]);
  if (status === 429) return "rate limited by storage (429)";
  if (status >= 500 && status <= 599) return `storage error (${status})`;
  return undefined;
}

/**
 * Runs a call to a dependency under a deadline. Not answered within `deadlineMs`, or
 * failed with an error the runtime marks transient: `Unavailable` (fail closed). Any
 * other error is rethrown as it is: a bug stays a bug (500), never a retryable outage.
 */
export async function withDeadline<T>(
  deadlineMs: number,
  dependency: Dependency,
  operation: string,
  call: () => Promise<T>,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Unavailable(dependency, operation, "timed out")), deadlineMs);
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (error) {
    if (error instanceof Unavailable) throw error;
    const transient = transientFailure(error);
    throw transient === undefined ? error : new Unavailable(dependency, operation, transient);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/**
 * A stored value that does not have the shape its reader expects: written by a bug, or
 * by hand. Never read as a pass, and never retried: 500.
 */
export class StoredValueError extends Error {
  override readonly name = "StoredValueError";

  constructor(dependency: Dependency, operation: string) {
    super(`${dependency}: ${operation}: stored value has the wrong shape`);
  }
}

/**
 * The refusal a thrown error becomes, logged once: `Unavailable` as
 * `dependency_unavailable` (what and how, no stack: it is not a bug), anything else as
 * `unexpected_error` with its message and stack. `context` names the request or call.
 */
export function failureRefusal(error: unknown, context: Record<string, unknown>): Refusal {
  if (error instanceof Unavailable) {
    logEvent("error", "dependency_unavailable", {
      ...context,
      dependency: error.dependency,
      operation: error.operation,
      failure: error.failure,
    });
    return refuse(error.outcome);
  }
  logEvent("error", "unexpected_error", {
    ...context,
    error: error instanceof Error ? `${error.name}: ${error.message}` : typeof error,
    stack: error instanceof Error ? error.stack : undefined,
  });
  return refuse("internalError");
}
