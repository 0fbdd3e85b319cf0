import * as z from "zod/mini";
import { KV_CACHE_TTL_SECONDS, KV_MIN_TTL_SECONDS, RECORD_EXPIRY_MARGIN_SECONDS } from "../../core/constants";
import { InfrastructureFailure, withDeadline } from "../../core/failures";

/** A KV call that has not answered by then is treated as a failure (fail closed). */
const KV_DEADLINE_MS = 2_000;

/**
 * Every KV call goes through here: a call that throws, or has not answered within
 * KV_DEADLINE_MS, becomes the service-unavailable answer, so callers fail closed.
 */
export function withKvDeadline<T>(operation: string, call: () => Promise<T>): Promise<T> {
  return withDeadline(
    KV_DEADLINE_MS,
    call,
    (failure) => new KvFailure(operation, failure),
    (error) => (error instanceof Error ? error.message : "failed"),
  );
}

/** A KV failure: answered as retCode 4 / HTTP 503 with Retry-After (src/core/failures.ts). */
export class KvFailure extends InfrastructureFailure {
  constructor(operation: string, failure: string) {
    super("serviceUnavailable", operation, failure, "kv_failure");
    this.name = "KvFailure";
  }
}

/** Reads a JSON record; a value that does not match the schema is a failure, never a pass. */
export async function readRecord<Schema extends z.ZodMiniType>(
  kv: KVNamespace,
  key: string,
  schema: Schema,
  operation: string,
): Promise<z.output<Schema> | null> {
  const value = await withKvDeadline(operation, () =>
    kv.get(key, { type: "json", cacheTtl: KV_CACHE_TTL_SECONDS }),
  );
  if (value === null) return null;
  const record = z.safeParse(schema, value);
  if (!record.success) throw new KvFailure(operation, "stored value has the wrong shape");
  return record.data;
}

/** `expiresAt`: seconds since the epoch; callers keep it at least KV_MIN_TTL_SECONDS ahead. */
export async function writeRecord(
  kv: KVNamespace,
  key: string,
  record: unknown,
  expiresAt: number,
  operation: string,
): Promise<void> {
  await withKvDeadline(operation, () => kv.put(key, JSON.stringify(record), { expiration: expiresAt }));
}

/**
 * When a record describing something valid until `lastValidSecond` may expire: after
 * that second plus a margin, so a lookup never races the expiry, and never sooner than
 * KV's 60-second minimum allows. Seconds since the epoch.
 */
export function recordExpiration(lastValidSecond: number, now: number): number {
  return Math.max(lastValidSecond, now + KV_MIN_TTL_SECONDS) + RECORD_EXPIRY_MARGIN_SECONDS;
}
