/**
 * The Worker behind a thin wrapper, for `npm run bench` only (never deployed), in one
 * of three modes chosen by the BENCH_MODE binding:
 * - `count`: the real KV binding wrapped in a counter, so KV calls per request are
 *   counted at the binding rather than guessed from the code;
 * - `in-isolate`: KV and the rate limiters replaced by trivial in-memory versions, so the
 *   workerd CPU measured is the Worker's own. Locally, KV and the limiters are simulated
 *   inside the same workerd process and their CPU would be counted as ours; on Cloudflare
 *   they run outside the isolate;
 * - `local`: the bindings as they are (Miniflare's KV and limiters).
 * In every mode, a path under `/__strict/` reaches the same Worker with CONSISTENCY=strict
 * (the TokenLedger Durable Object, in the same workerd process), so both modes run in the
 * same rounds; and `POST /__bench/minimal-validate` (one KV read) and
 * `/__bench/minimal-validate-2kv` (two) answer with the hand-written minimal validator
 * (bench/minimal-validator.ts) on the same bindings, as the floor for the validate call.
 */
import worker, { type TokenLedger } from "../src/index";
import { minimalValidate } from "./minimal-validator";

// The bundle's entrypoint must export every class its bindings name (LEDGER: TokenLedger).
export { TokenLedger, TokenService } from "../src/index";

type Mode = "count" | "in-isolate" | "local";
const BENCH_PATH = "/__bench/";
const STRICT_PATH = "/__strict/";
const counts: Record<string, number> = {};
const wrappedEnvs = new WeakMap<object, Env>();
const strictEnvs = new WeakMap<object, Env>();

/** The same bindings with CONSISTENCY=strict: one object per env, so its config is parsed once. */
function strict(env: Env): Env {
  let strictEnv = strictEnvs.get(env);
  if (!strictEnv) {
    strictEnv = { ...env, CONSISTENCY: "strict" };
    strictEnvs.set(env, strictEnv);
  }
  return strictEnv;
}

function countingKv(kv: KVNamespace): KVNamespace {
  return new Proxy(kv, {
    get(target, property) {
      const value = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        counts[String(property)] = (counts[String(property)] ?? 0) + 1;
        return value.apply(target, args);
      };
    },
  });
}

/** The LEDGER binding with every call made through its stubs counted, as `do`. */
function countingLedger<Namespace extends DurableObjectNamespace<TokenLedger>>(
  namespace: Namespace,
): Namespace {
  return new Proxy(namespace, {
    get(target, property) {
      const member = Reflect.get(target, property);
      if (property !== "get") return typeof member === "function" ? member.bind(target) : member;
      return (id: DurableObjectId, options?: DurableObjectNamespaceGetDurableObjectOptions) => {
        const stub = target.get(id, options);
        return new Proxy(stub, {
          get(stubTarget, method) {
            // Stub members are RPC callers: call them on the stub, counting each call.
            return (...args: unknown[]) => {
              counts.do = (counts.do ?? 0) + 1;
              return Reflect.apply(Reflect.get(stubTarget, method), stubTarget, args);
            };
          },
        });
      };
    },
  });
}

/**
 * The Cache API as the location memo (src/state/kv/location-memo.ts) uses it, in isolate
 * memory: on Cloudflare it runs outside the isolate, as KV does.
 */
function inIsolateCaches(): CacheStorage {
  const entries = new Map<string, string>();
  const cache = {
    async match(key: string) {
      const body = entries.get(key);
      return body === undefined ? undefined : new Response(body);
    },
    async put(key: string, response: Response) {
      entries.set(key, await response.text());
    },
    async delete(key: string) {
      return entries.delete(key);
    },
  };
  return { open: async () => cache, default: cache } as unknown as CacheStorage;
}

function inIsolateKv(): KVNamespace {
  const values = new Map<string, string>();
  return {
    async get(key: string, options?: { type?: string }) {
      const value = values.get(key) ?? null;
      return value !== null && options?.type === "json" ? JSON.parse(value) : value;
    },
    async put(key: string, value: string) {
      values.set(key, value);
    },
  } as unknown as KVNamespace;
}

const allowAll = { limit: async () => ({ success: true }) } as RateLimit;

function wrap(env: Env & { BENCH_MODE?: Mode }): Env {
  if (env.BENCH_MODE === "local") return env;
  let wrapped = wrappedEnvs.get(env);
  if (!wrapped) {
    // One wrapped env per isolate, so the Worker's per-env config cache still holds.
    wrapped =
      env.BENCH_MODE === "in-isolate"
        ? {
            ...env,
            TOKENS: inIsolateKv(),
            ISSUE_LIMITER: allowAll,
            END_LIMITER: allowAll,
            TOKEN_LIMITER: allowAll,
            SESSION_LIMITER: allowAll,
            ADDRESS_LIMITER: allowAll,
          }
        : { ...env, TOKENS: countingKv(env.TOKENS), LEDGER: countingLedger(env.LEDGER) };
    if (env.BENCH_MODE === "in-isolate")
      Object.defineProperty(globalThis, "caches", { value: inIsolateCaches() });
    wrappedEnvs.set(env, wrapped);
  }
  return wrapped;
}

export default {
  async fetch(request, env: Env & { BENCH_MODE?: Mode }, ctx) {
    // A plain substring test, not a URL parse: this runs before every measured request.
    if (request.url.includes(BENCH_PATH)) {
      const path = new URL(request.url).pathname;
      if (path === "/__bench/minimal-validate") return minimalValidate(request, wrap(env), 1);
      if (path === "/__bench/minimal-validate-2kv") return minimalValidate(request, wrap(env), 2);
      if (path === "/__bench/kv-counts") {
        const snapshot = { ...counts };
        for (const key of Object.keys(counts)) delete counts[key];
        return Response.json(snapshot);
      }
    }
    if (request.url.includes(STRICT_PATH)) {
      return worker.fetch(new Request(request.url.replace("/__strict", ""), request), strict(wrap(env)), ctx);
    }
    return worker.fetch(request, wrap(env), ctx);
  },
} satisfies ExportedHandler<Env & { BENCH_MODE?: Mode }>;
