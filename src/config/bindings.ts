import type { ConfigProblem, ConsistencyMode } from "./variables";

/**
 * The bindings the Worker cannot serve without, checked when the configuration is
 * loaded: a binding left out of an environment in wrangler.toml (named environments
 * inherit none) answers retCode 11 naming it, rather than failing request by request.
 * What makes each one: its `wrangler.toml` table, for the problem's words.
 */
const REQUIRED = {
  TOKENS: { table: "[[kv_namespaces]]", method: "get", modes: ["eventual", "strict"] },
  LEDGER: { table: "[[durable_objects.bindings]]", method: "idFromName", modes: ["strict"] },
  ISSUE_LIMITER: { table: "[[ratelimits]]", method: "limit", modes: ["eventual", "strict"] },
  END_LIMITER: { table: "[[ratelimits]]", method: "limit", modes: ["eventual", "strict"] },
  SESSION_LIMITER: { table: "[[ratelimits]]", method: "limit", modes: ["eventual", "strict"] },
  TOKEN_LIMITER: { table: "[[ratelimits]]", method: "limit", modes: ["eventual", "strict"] },
  ADDRESS_LIMITER: { table: "[[ratelimits]]", method: "limit", modes: ["eventual", "strict"] },
} as const satisfies Record<string, { table: string; method: string; modes: readonly ConsistencyMode[] }>;

export type BindingName = keyof typeof REQUIRED;

/** Every required binding that `env` lacks for `mode`, as configuration problems. */
export function bindingProblems(
  env: Partial<Record<BindingName, unknown>>,
  mode: ConsistencyMode,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const [name, { table, method, modes }] of Object.entries(REQUIRED)) {
    if (!(modes as readonly string[]).includes(mode)) continue;
    const binding = env[name as BindingName] as Record<string, unknown> | undefined;
    if (typeof binding?.[method] !== "function") {
      problems.push({
        variable: name,
        reason: `is not bound: declare it in wrangler.toml (${table} with the name ${name}) for this environment${name === "LEDGER" ? ", as CONSISTENCY=strict needs" : ""}`,
      });
    }
  }
  return problems;
}
