import * as z from "zod/mini";
import { KV_CACHE_TTL_SECONDS, KV_MIN_TTL_SECONDS, RECORD_EXPIRY_MARGIN_SECONDS } from "../../core/constants";
import { StoredValueError, withDeadline } from "../../core/failures";
import type { LocationMemo } from "./location-memo";

/**
 * The KV namespace as the eventual mode uses it: JSON records, every call under the
 * store deadline (STORE_DEADLINE_MS), with the location's memo in front (what was read or
 * written here in the last KV_MEMO_SECONDS is not read again: src/state/kv/location-memo.ts).
 * A call that has not answered in time, or fails in a way the runtime marks transient,
 * is Unavailable (503); a value of the wrong shape is a StoredValueError (500), never a pass.
 */
export class KvStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly deadlineMs: number,
    private readonly memo: LocationMemo | undefined,
  ) {}

  async read<Schema extends z.ZodMiniType>(
    key: string,
    schema: Schema,
    operation: string,
  ): Promise<z.output<Schema> | null> {
    const recalled = await this.memo?.recall(key);
    let value = recalled?.value;
    if (recalled === undefined) {
      value = await withDeadline(this.deadlineMs, "kv", operation, () =>
        this.kv.get(key, { type: "json", cacheTtl: KV_CACHE_TTL_SECONDS }),
      );
      await this.memo?.rememberRead(key, value);
    }
    if (value === null || value === undefined) return null;
    const record = z.safeParse(schema, value);
    if (!record.success) throw new StoredValueError("kv", operation);
    return record.data;
  }

  /** `expiresAt`: seconds since the epoch, from `recordExpiration`. */
  async write(key: string, record: unknown, expiresAt: number, operation: string): Promise<void> {
    await withDeadline(this.deadlineMs, "kv", operation, () =>
      this.kv.put(key, JSON.stringify(record), { expiration: expiresAt }),
    );
    // Seen by the whole location at once: an end never waits for the memo to let go here.
    await this.memo?.rememberWritten(key, record);
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
