import type { Outcome } from "./outcomes";

/**
 * A dependency failed: storage unavailable or slower than its deadline, an identity
 * provider down. The only kind of failure that is thrown, and a known-transient one:
 * it answers its outcome (503 with Retry-After) and is logged with `operation` and
 * `failure`, never with a submitted value. Anything else thrown is a bug (500).
 */
export class InfrastructureFailure extends Error {
  constructor(
    readonly outcome: Extract<Outcome, "serviceUnavailable" | "identityProviderUnavailable">,
    /** What was being done, for the log: "read token record". */
    readonly operation: string,
    /** What went wrong, for the log: "timed out". */
    readonly failure: string,
    /** The log event that reports it. */
    readonly event = "dependency_failure",
  ) {
    super(`${operation}: ${failure}`);
    this.name = "InfrastructureFailure";
  }
}

/**
 * Runs a call to a dependency under a deadline: one that throws, or has not answered in
 * `deadlineMs`, becomes the InfrastructureFailure `failure` makes (fail closed), described
 * by `describe` (never a submitted value).
 */
export async function withDeadline<T>(
  deadlineMs: number,
  call: () => Promise<T>,
  failure: (what: string) => InfrastructureFailure,
  describe: (error: unknown) => string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(failure("timed out")), deadlineMs);
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (error) {
    throw error instanceof InfrastructureFailure ? error : failure(describe(error));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}
