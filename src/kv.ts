import { KV_DEADLINE_MS } from "./constants";
import { ServiceError } from "./ret-codes";

/**
 * Every KV call goes through here: a call that throws, or has not answered within
 * KV_DEADLINE_MS, becomes the service-unavailable answer, so callers fail closed.
 */
export async function withKvDeadline<T>(operation: string, call: () => Promise<T>): Promise<T> {
  let timer: number | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KvFailure(operation, "timed out")), KV_DEADLINE_MS);
  });
  try {
    return await Promise.race([call(), deadline]);
  } catch (error) {
    if (error instanceof KvFailure) throw error;
    throw new KvFailure(operation, error instanceof Error ? error.message : "failed");
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** A KV failure: answered as retCode 4 / HTTP 503; `operation` and `failure` are for the log only. */
export class KvFailure extends ServiceError {
  constructor(
    readonly operation: string,
    readonly failure: string,
  ) {
    super("serviceUnavailable");
    this.name = "KvFailure";
  }
}
