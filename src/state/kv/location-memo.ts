import { base64url } from "jose";
import { sha256 } from "../../crypto/encoding";
import { logEvent } from "../../observability/log";

/**
 * The made-up origin the memo's entries live under (never fetched). The cache's name
 * carries the deployment (memoCacheName): the Cache API is shared by every Worker of a
 * zone, and two deployments there (staging and production) hold different KV namespaces.
 */
const MEMO_ORIGIN = "https://kv-memo.cec-edge-token.internal/";

/** The memo's cache for a deployment: its environment and signing keys' ids, hashed. */
export async function memoCacheName(environment: string, kids: readonly string[]): Promise<string> {
  const digest = await sha256(JSON.stringify([environment, [...kids].sort()]));
  return `cec-edge-token:kv-memo:${base64url.encode(new Uint8Array(digest, 0, 12))}`;
}

/**
 * A record's two entries: what a request of this location wrote (`written/`), and what
 * one read (`read/`). A written entry wins over a read one, and outlives any read that was
 * in flight when it was written (by the store deadline, see `writtenExtraSeconds`), so a
 * read that remembers the older value after an end was written here is never the
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
    /** KV_MEMO_SECONDS: how long a read entry is kept (at most 30). */
    private readonly seconds: number,
    private readonly openCache: () => Promise<Cache>,
    /**
     * How much longer a written entry is kept than a read one: at least the longest a KV
     * read may take (the store deadline), so that a read in flight when the write was made
     * cannot leave its older value behind the written one.
     */
    private readonly writtenExtraSeconds: number,
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
   * Remembers what was just written to `key`. If that fails, both of the key's entries are
   * removed instead (an earlier write's, a read's), so that the location does not keep
   * showing what the write replaced.
   */
  async rememberWritten(key: string, value: unknown): Promise<void> {
    try {
      await this.put("written", key, value, this.seconds + this.writtenExtraSeconds);
    } catch (error) {
      unavailable(error);
      try {
        const cache = await this.cache();
        await Promise.all([cache.delete(entryUrl("written", key)), cache.delete(entryUrl("read", key))]);
      } catch {
        // Nothing more to do: the entries expire on their own.
      }
    }
  }

  private async put(kind: "written" | "read", key: string, value: unknown, seconds = this.seconds) {
    const body = JSON.stringify({ value } satisfies Recalled);
    await (await this.cache()).put(
      entryUrl(kind, key),
      new Response(body, {
        headers: { "Content-Type": "application/json", "Cache-Control": `max-age=${seconds}` },
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
