import * as z from "zod/mini";
import { KV_CACHE_TTL_SECONDS, KV_MIN_TTL_SECONDS, RECORD_EXPIRY_MARGIN_SECONDS } from "../../core/constants";
import { StoredValueError, withDeadline } from "../../core/failures";

/**
 * The KV namespace as the eventual mode uses it: JSON records, every call under the
 * store deadline (STORE_DEADLINE_MS). A call that has not answered in time, or fails in a
 * way the runtime marks transient, is Unavailable (503); a value of the wrong shape is a
 * StoredValueError (500), never a pass.
 */
export class KvStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly deadlineMs: number,
  ) {}

  async read<Schema extends z.ZodMiniType>(
    key: string,
    schema: Schema,
    operation: string,
  ): Promise<z.output<Schema> | null> {
    const value = await withDeadline(this.deadlineMs, "kv", operation, () =>
      this.kv.get(key, { type: "json", cacheTtl: KV_CACHE_TTL_SECONDS }),
    );
    if (value === null) return null;
    const record = z.safeParse(schema, value);
    if (!record.success) throw new StoredValueError("kv", operation);
    return record.data;
  }

  /** `expiresAt`: seconds since the epoch, from `recordExpiration`. */
  async write(key: string, record: unknown, expiresAt: number, operation: string): Promise<void> {
    await withDeadline(this.deadlineMs, "kv", operation, () =>
      this.kv.put(key, JSON.stringify(record), { expiration: expiresAt }),
    );
  }
}

/**
 * When a record describing something valid until `lastValidSecond` may expire: after
 * that second plus a margin, so a lookup never races the expiry, and never sooner than
 * KV's 60-second minimum allows. Seconds since the epoch.
 */
export function recordExpiration(lastValidSecond: number, now: number): number {
  return Math.max(lastValidSecond, now + KV_MIN_TTL_SECONDS) + RECORD_EXPIRY_MARGIN_SECONDS;
}
