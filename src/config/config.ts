import { ok } from "../core/decision";
import { type ApiKeyEntry, type ApiKeyRing, buildApiKeyRing } from "../crypto/api-keys";
import { importKeyRing, type RawSigningKey, type SigningKeyRing } from "../crypto/signing-keys";
import type { IdentityIssuer } from "../identity/issuers";
import { parseIdentityIssuers } from "../identity/issuers";
import { parseApiKeyScopes } from "./api-key-scopes";
import { bindingProblems } from "./bindings";
import { developmentFallback, withDevelopmentIssuer } from "./development";
import { environmentProblems, howToSet, isDeployed, type ParseOptions } from "./policy";
import {
  type ConfigEnv,
  type ConfigProblem,
  type ConsistencyMode,
  type Environment,
  epochStartsAt,
  type Parsed,
  parseSigningKeysVariable,
  parseVariables,
} from "./variables";

export { SECRET_NAMES } from "./policy";
export type { ConfigEnv, ConfigProblem, Environment } from "./variables";
export { VARIABLE_NAMES } from "./variables";

/** The parsed configuration: nothing else in the program reads raw `env` strings. */
export interface Config {
  readonly environment: Environment;
  readonly signingKeys: SigningKeyRing;
  readonly apiKeys: ApiKeyRing;
  readonly tenantSpaceIds: ReadonlySet<string>;
  /** Default and maximum token lifetime. */
  readonly tokenTtlSeconds: number;
  readonly clockToleranceSeconds: number;
  readonly validatePath: string;
  /** HMAC keys for `ccmessaging-token` cookies, derived from SIGNING_KEYS (same kids). */
  readonly sessionKeys: SigningKeyRing;
  readonly session: SessionConfig;
  /** Enterprise identity providers accepted on `POST /v1/tokens` (plus, in development, the built-in one). */
  readonly identityIssuers: readonly IdentityIssuer[];
  /** Whether `/docs` (the HTML reference) is served (DOCS: on by default). */
  readonly docs: boolean;
  /** Whether `/playground` is served (PLAYGROUND: development by default, staging on request, never production). */
  readonly playground: boolean;
  /** Web origins allowed to call `/v1/*` from a browser (CORS) and to use the session cookie. */
  readonly allowedOrigins: ReadonlySet<string>;
  readonly consistency: ConsistencyConfig;
  /** STORE_DEADLINE_MS: a KV or ledger call not answered by then fails closed (503). */
  readonly storeDeadlineMs: number;
  /** KV_MEMO_SECONDS: how long a location reuses what it read from KV (0: never). Eventual mode. */
  readonly kvMemoSeconds: number;
  readonly logging: {
    /** `hashed` (default): logs carry a keyed hash of the user id; `raw`: the id itself. */
    readonly userIds: "hashed" | "raw";
    /** HMAC key for the user-id pseudonyms, derived from the first signing key. */
    readonly pseudonymKey: CryptoKey;
  };
}

export interface SessionConfig {
  readonly ttlSeconds: number;
  /** The absolute lifetime, from `createTime`: renewal never moves a session's expiry past it. */
  readonly maxLifetimeSeconds: number;
  /** CHANNEL_IDS: the channels a session may be opened for; undefined = any channel. */
  readonly channelIds: ReadonlySet<string> | undefined;
  readonly cookie: {
    readonly sameSite: "Strict" | "Lax" | "None";
    readonly httpOnly: boolean;
    readonly partitioned: boolean;
    readonly domain: string | undefined;
  };
}

/** CONSISTENCY and the strict mode's settings (docs/consistency.md). */
export interface ConsistencyConfig {
  /** `eventual` (default): verdicts from Workers KV; `strict`: from the TokenLedger Durable Object. */
  readonly mode: ConsistencyMode;
  /**
   * Written into every token and session cookie, and required of every one presented:
   * the mode and CONSISTENCY_EPOCH, as `strict` or `strict:2026-12-02`. What another mode
   * (or an earlier period of this one) issued is refused: its ends were kept elsewhere.
   */
  readonly epoch: string;
  /**
   * CONSISTENCY_EPOCH as a time (seconds): the switch. An identity token whose sign-in is
   * older is refused (retCode 18): a user revoked in the previous mode was revoked in a
   * store this mode never reads. Undefined while no switch has been declared.
   */
  readonly startedAt: number | undefined;
  /** TOKEN_MAX_USES: validations (and session opens) a token passes; null = unlimited. Strict mode only. */
  readonly tokenMaxUses: number | null;
  /** LEDGER_LOCATION_HINT: where the ledger objects are created; undefined = near their first caller. */
  readonly ledgerLocationHint: DurableObjectLocationHint | undefined;
}

/**
 * Every problem found in the configuration at once, so an operator fixes them in one
 * round. `new ConfigError(variable, reason)` is one problem; `new ConfigError(problems)` several.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(variableOrProblems: string | readonly ConfigProblem[], reason = "") {
    const problems =
      typeof variableOrProblems === "string"
        ? [{ variable: variableOrProblems, reason }]
        : variableOrProblems;
    super(problems.map((problem) => `${problem.variable} ${problem.reason}`).join("; "));
    this.name = "ConfigError";
    this.problems = problems;
  }

  /** The variables at fault, in the order found. */
  get variables(): string[] {
    return this.problems.map((problem) => problem.variable);
  }
}

/**
 * Parses and checks every variable (src/config/variables.ts), applies the environment's
 * policy (src/config/policy.ts) and, in development only, the committed fallbacks
 * (src/config/development.ts), then imports the keys. Throws one ConfigError listing
 * every problem found, each with the variable and what it must be.
 */
export async function parseConfig(env: ConfigEnv, options: ParseOptions = {}): Promise<Config> {
  const problems: ConfigProblem[] = [];
  const vars = parseVariables(env, problems);
  // An ENVIRONMENT that does not parse is held to production's rules, the strictest.
  const environment = vars.ENVIRONMENT ?? "production";
  // A value that does not parse: say where to fix it, now that the environment is known.
  for (const [index, problem] of problems.entries()) {
    problems[index] = {
      ...problem,
      reason: `${problem.reason} (${howToSet(problem.variable, environment, options)})`,
    };
  }
  const failed = (name: string) => problems.some((problem) => problem.variable === name);

  /** A required setting: development falls back to its committed default, elsewhere it is a problem. */
  function required<T>(
    name: "TENANT_SPACE_IDS" | "API_KEYS" | "SIGNING_KEYS",
    value: T | undefined,
  ): T | undefined {
    if (value !== undefined || failed(name)) return value;
    if (environment === "development") return developmentFallback(name) as T;
    problems.push({ variable: name, reason: `is not set (${howToSet(name, environment, options)})` });
    return undefined;
  }
  const tenantSpaceIds = required("TENANT_SPACE_IDS", vars.TENANT_SPACE_IDS);
  const apiKeys = required("API_KEYS", vars.API_KEYS);
  const signingKeys = required("SIGNING_KEYS", parseSigningKeysVariable(env, problems));
  const playground = vars.PLAYGROUND ?? (environment === "development" ? "on" : "off");
  problems.push(
    ...environmentProblems(
      environment,
      { signingKeys, apiKeys, allowedOrigins: vars.ALLOWED_ORIGINS, playground },
      options,
    ),
  );

  if (options.checkBindings) problems.push(...bindingProblems(env, vars.CONSISTENCY ?? "eventual"));

  if (vars.TOKEN_MAX_USES !== undefined && vars.CONSISTENCY === "eventual") {
    problems.push({
      variable: "TOKEN_MAX_USES",
      reason:
        "needs CONSISTENCY=strict: Workers KV cannot count uses (docs/consistency.md); unset it, or set CONSISTENCY=strict",
    });
  }

  const servedTenants = new Set(tenantSpaceIds);
  const apiKeyScopes = parseApiKeyScopes(vars.API_KEY_SCOPES, apiKeys ?? [], servedTenants, problems);
  const issuers =
    vars.IDENTITY_ISSUERS === undefined
      ? ok<IdentityIssuer[]>([])
      : parseIdentityIssuers(vars.IDENTITY_ISSUERS, servedTenants, !isDeployed(environment));
  if (issuers.outcome !== "ok") problems.push({ variable: "IDENTITY_ISSUERS", reason: issuers.reason ?? "" });

  if (problems.length > 0 || !signingKeys || !apiKeys || issuers.outcome !== "ok") {
    throw new ConfigError(problems);
  }
  // No problem was recorded, so every variable of the table parsed.
  return build(vars as Parsed, {
    environment,
    playground: playground === "on",
    identityIssuers: withDevelopmentIssuer(environment, issuers.value, servedTenants),
    tenantSpaceIds: servedTenants,
    signingKeys,
    apiKeys,
    apiKeyScopes,
  });
}

/** The configuration from variables that all parsed, with its keys imported. */
async function build(
  parsed: Parsed,
  settled: {
    environment: Environment;
    playground: boolean;
    identityIssuers: readonly IdentityIssuer[];
    tenantSpaceIds: ReadonlySet<string>;
    signingKeys: readonly [RawSigningKey, ...RawSigningKey[]];
    apiKeys: readonly ApiKeyEntry[];
    apiKeyScopes: ReadonlyMap<string, ReadonlySet<string>>;
  },
): Promise<Config> {
  const { signingKeys } = settled;
  return {
    environment: settled.environment,
    playground: settled.playground,
    docs: parsed.DOCS === "on",
    identityIssuers: settled.identityIssuers,
    allowedOrigins: new Set(parsed.ALLOWED_ORIGINS),
    signingKeys: await importKeyRing(signingKeys, "token"),
    sessionKeys: await importKeyRing(signingKeys, "session-cookie"),
    logging: {
      userIds: parsed.LOG_USER_IDS,
      // Pseudonyms stay stable while the first key does; they change when it rotates.
      pseudonymKey: (await importKeyRing(signingKeys, "log-pseudonym")).current.key,
    },
    apiKeys: await buildApiKeyRing(settled.apiKeys, settled.apiKeyScopes),
    tenantSpaceIds: settled.tenantSpaceIds,
    tokenTtlSeconds: parsed.TOKEN_TTL_SECONDS,
    clockToleranceSeconds: parsed.CLOCK_TOLERANCE_SECONDS,
    validatePath: parsed.VALIDATE_PATH,
    storeDeadlineMs: parsed.STORE_DEADLINE_MS,
    kvMemoSeconds: parsed.KV_MEMO_SECONDS,
    consistency: {
      mode: parsed.CONSISTENCY,
      epoch:
        parsed.CONSISTENCY_EPOCH === undefined
          ? parsed.CONSISTENCY
          : `${parsed.CONSISTENCY}:${parsed.CONSISTENCY_EPOCH}`,
      startedAt: parsed.CONSISTENCY_EPOCH === undefined ? undefined : epochStartsAt(parsed.CONSISTENCY_EPOCH),
      tokenMaxUses: parsed.TOKEN_MAX_USES ?? null,
      ledgerLocationHint: parsed.LEDGER_LOCATION_HINT,
    },
    session: {
      ttlSeconds: parsed.SESSION_TTL_SECONDS,
      maxLifetimeSeconds: parsed.SESSION_MAX_LIFETIME_SECONDS,
      channelIds: parsed.CHANNEL_IDS === undefined ? undefined : new Set(parsed.CHANNEL_IDS),
      cookie: {
        sameSite: parsed.COOKIE_SAME_SITE,
        httpOnly: parsed.COOKIE_HTTP_ONLY,
        partitioned: parsed.COOKIE_PARTITIONED,
        domain: parsed.COOKIE_DOMAIN,
      },
    },
  };
}

const cache = new WeakMap<object, Promise<Config>>();

/**
 * The configuration for this `env`, variables and bindings, parsed once per isolate (the
 * runtime hands every request the same `env` object). A ConfigError is cached too: it is
 * a deployment error that only a new deployment, and so a new isolate, can fix. Anything
 * else thrown is not a configuration problem but a failure (a bug, a key that would not
 * import): it is not cached, so the next request tries again (src/core/failures.ts).
 */
export function loadConfig(env: ConfigEnv): Promise<Config> {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env, { checkBindings: true });
    cache.set(env, config);
    config.catch((error: unknown) => {
      if (!(error instanceof ConfigError)) cache.delete(env);
    });
  }
  return config;
}
