import { env } from "cloudflare:workers";

/**
 * Fault injection on the real local KV: the namespace stays real, one operation is
 * made to fail the way the test says. Not a mock: everything else reads and writes.
 */

/** What a failing KV call can do. */
export type KvFault =
  /** The storage service's own trouble, as the runtime reports it: transient, 503 with Retry-After. */
  | "unavailable"
  /** Never answers: the store deadline turns it into a 503. */
  | "hang"
  /** A failure nothing marks transient (a bug, a request KV refuses): 500, never retried. */
  | "bug";

/** A KV error as the runtime raises it: the storage service's status in the message. */
export function kvRuntimeError(operation: string, status = 503, text = "Service Unavailable"): Error {
  return new Error(`KV ${operation.toUpperCase()} failed: ${status} ${text}`);
}

export function failing(operation: string, fault: KvFault): () => Promise<never> {
  return () =>
    fault === "hang"
      ? new Promise<never>(() => {})
      : Promise.reject(
          fault === "unavailable"
            ? kvRuntimeError(operation)
            : new TypeError("a KV fault nothing marks transient"),
        );
}

/**
 * The real KV, with `operations` failing (`fault`), for keys starting with `prefix` (all
 * keys by default). The binding itself is intact, as the configuration check sees it.
 */
export function faultyKv(operations: readonly ("get" | "put")[], fault: KvFault, prefix = ""): KVNamespace {
  return new Proxy(env.TOKENS, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      if (!(operations as readonly PropertyKey[]).includes(property)) return value.bind(target);
      return (key: string, ...rest: unknown[]) =>
        key.startsWith(prefix)
          ? failing(String(property), fault)()
          : Reflect.apply(value, target, [key, ...rest]);
    },
  });
}

/** The real KV, answering `value` to every read: a stored value of the wrong shape. */
export function kvReturning(value: unknown): KVNamespace {
  return new Proxy(env.TOKENS, {
    get(target, property) {
      const member = Reflect.get(target, property);
      if (property === "get") return async () => value;
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
}

/**
 * Variables for a Worker whose store deadline is short: a hanging store costs a test
 * tens of milliseconds, not the production deadline's two seconds.
 */
export const SHORT_STORE_DEADLINE = { STORE_DEADLINE_MS: "40" } as const;

/**
 * Variables for a Worker that reads KV every time (no location memo): a fault injected
 * into KV is then met by the request, whatever earlier requests left in the memo.
 */
export const NO_KV_MEMO = { KV_MEMO_SECONDS: "0" } as const;
