import { KV_MEMO_SECONDS } from "../../core/constants";
import { logEvent } from "../../observability/log";

/** The memo's cache, and the made-up origin its keys live under (never fetched). */
const MEMO_CACHE = "cec-edge-token:kv-memo";
const MEMO_ORIGIN = "https://kv-memo.cec-edge-token.internal/";

/**
 * A record's two entries: what a request of this location wrote (`written/`), and what
 * one read (`read/`). A written entry wins over a read one, so a read that was in flight
 * when an end was written here, and remembers the older value after it, is never the
 * answer: the end is.
 */
const entryUrl = (kind: "written" | "read", key: string) => `${MEMO_ORIGIN}${kind}/${key}`;

/** A value recalled from the memo: `null` is a remembered "not found". */
export interface Recalled {
  readonly value: unknown;
}

/**
 * What this Cloudflare location last read from, or wrote to, KV, kept for
 * KV_MEMO_SECONDS in the location's own cache (the Cache API). A KV read is billed
 * every time, even one served from KV's edge cache; the Cache API is not. The cache is
 * shared by every isolate of the location, so a write put here (an end: a revocation, a
 * logout) is seen by the whole location at once; elsewhere it is seen once that
 * location's memo and KV's own cache have let go of the older value (KV_MEMO_SECONDS +
 * KV_VISIBILITY_SECONDS: the bound docs/storage-schema.md states). Cloudflare evicts the
 * cache under pressure, so a flood of distinct keys never grows the isolate's memory.
 *
 * The memo only ever holds what KV answered or what was written: a failed read is not
 * remembered, and a memo that fails is a miss (KV is read), never an answer.
 */
export class LocationMemo {
  #cache: Promise<Cache> | undefined;

  constructor(
    /** KV_MEMO_SECONDS: how long an entry is kept, at most KV_MEMO_SECONDS the constant. */
    private readonly seconds: number = KV_MEMO_SECONDS,
    private readonly openCache: () => Promise<Cache> = () => caches.open(MEMO_CACHE),
    /** How long a recall may take before it counts as a miss. */
    private readonly deadlineMs = 50,
  ) {}

  async recall(key: string): Promise<Recalled | undefined> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const cache = await this.cache();
      const entries = Promise.all([
        cache.match(entryUrl("written", key)),
        cache.match(entryUrl("read", key)),
      ]);
      const found = await Promise.race([
        entries,
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), this.deadlineMs);
        }),
      ]);
      const entry = found?.[0] ?? found?.[1];
      return entry ? recalled(await entry.json()) : undefined;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Remembers what KV answered for `key` (`null`: not found). */
  async rememberRead(key: string, value: unknown): Promise<void> {
    try {
      await this.put("read", key, value);
    } catch (error) {
      unavailable(error);
    }
  }

  /**
   * Remembers what was just written to `key`. If that fails, the entry a read left is
   * removed instead, so that the location does not keep showing what the write replaced.
   */
  async rememberWritten(key: string, value: unknown): Promise<void> {
    try {
      await this.put("written", key, value);
    } catch (error) {
      unavailable(error);
      try {
        await (await this.cache()).delete(entryUrl("read", key));
      } catch {
        // Nothing more to do: the entry expires within KV_MEMO_SECONDS.
      }
    }
  }

  private async put(kind: "written" | "read", key: string, value: unknown): Promise<void> {
    const body = JSON.stringify({ value } satisfies Recalled);
    await (await this.cache()).put(
      entryUrl(kind, key),
      new Response(body, {
        headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${this.seconds}` },
      }),
    );
  }

  private cache(): Promise<Cache> {
    // A cache that failed to open is tried again by the next call, not given up on.
    this.#cache ??= this.openCache().catch((error: unknown) => {
      this.#cache = undefined;
      throw error;
    });
    return this.#cache;
  }
}

/** An entry as this class puts it, or a miss: never `undefined` standing for "not found". */
function recalled(body: unknown): Recalled | undefined {
  return typeof body === "object" && body !== null && "value" in body ? { value: body.value } : undefined;
}

function unavailable(error: unknown): void {
  logEvent("warn", "kv_memo_unavailable", { error: error instanceof Error ? error.name : typeof error });
}
