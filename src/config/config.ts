import * as z from "zod/mini";
import {
  CLOCK_TOLERANCE_MAX_SECONDS,
  KV_MIN_TTL_SECONDS,
  LEDGER_SHARDS_MAX,
  MAX_ID_LENGTH,
  MIN_API_KEY_LENGTH,
  SESSION_MAX_LIFETIME_MAX_SECONDS,
  SESSION_TTL_MAX_SECONDS,
  TOKEN_MAX_USES_MAX,
  TOKEN_TTL_MAX_SECONDS,
} from "../constants";
import { type ApiKeyRing, buildApiKeyRing } from "../crypto/api-keys";
import {
  importKeyRing,
  parseSigningKeys,
  type RawSigningKey,
  type SigningKeyRing,
} from "../crypto/signing-keys";
import { developmentIssuer } from "../identity/development-idp";
import { type IdentityIssuer, parseIdentityIssuers } from "../identity/issuers";
import { DEVELOPMENT_DEFAULTS, holdsDevelopmentApiKey, holdsDevelopmentSigningKey } from "./development";

export const ENVIRONMENTS = ["production", "staging", "development", "test"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const CONSISTENCY_MODES = ["eventual", "strict"] as const;
export type ConsistencyMode = (typeof CONSISTENCY_MODES)[number];

/**
 * Cloudflare's Durable Object location hints (docs/consistency.md), as the runtime's
 * `DurableObjectLocationHint` type lists them.
 */
export const LEDGER_LOCATION_HINTS = [
  "wnam",
  "enam",
  "sam",
  "weur",
  "eeur",
  "apac",
  "apac-ne",
  "apac-se",
  "oc",
  "afr",
  "me",
] as const satisfies readonly DurableObjectLocationHint[];

/** Ledger objects per deployment unless LEDGER_SHARDS says otherwise (docs/consistency.md). */
export const DEFAULT_LEDGER_SHARDS = 16;

export const DEFAULT_VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

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
  /** TOKEN_MAX_USES: validations (and session opens) a token passes; null = unlimited. Strict mode only. */
  readonly tokenMaxUses: number | null;
  /** LEDGER_SHARDS: how many ledger objects share the users (by a hash of tenant and user id). */
  readonly ledgerShards: number;
  /** LEDGER_LOCATION_HINT: where the ledger objects are created; undefined = near their first caller. */
  readonly ledgerLocationHint: DurableObjectLocationHint | undefined;
}

/** One variable at fault and what it must be; never its value. */
export interface ConfigProblem {
  readonly variable: string;
  readonly reason: string;
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

/** The variables this module reads: the contract with operators (README, "Configuration"). */
export interface ConfigEnv {
  ENVIRONMENT?: unknown;
  SIGNING_KEYS?: unknown;
  API_KEYS?: unknown;
  TENANT_SPACE_IDS?: unknown;
  TOKEN_TTL_SECONDS?: unknown;
  CLOCK_TOLERANCE_SECONDS?: unknown;
  VALIDATE_PATH?: unknown;
  SESSION_TTL_SECONDS?: unknown;
  SESSION_MAX_LIFETIME_SECONDS?: unknown;
  COOKIE_SAME_SITE?: unknown;
  COOKIE_HTTP_ONLY?: unknown;
  COOKIE_PARTITIONED?: unknown;
  COOKIE_DOMAIN?: unknown;
  LOG_USER_IDS?: unknown;
  IDENTITY_ISSUERS?: unknown;
  ALLOWED_ORIGINS?: unknown;
  PLAYGROUND?: unknown;
  DOCS?: unknown;
  CONSISTENCY?: unknown;
  TOKEN_MAX_USES?: unknown;
  LEDGER_SHARDS?: unknown;
  LEDGER_LOCATION_HINT?: unknown;
}

const csv = (text: string) =>
  text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

/** Unset, or set to an empty string in wrangler.toml, both mean "use the default". */
const optionalText = z.pipe(
  z.optional(z.union([z.string(), z.number()])),
  z.transform((value) =>
    value === undefined || String(value).trim() === "" ? undefined : String(value).trim(),
  ),
);

const wholeNumber = (min: number, max: number, fallback: number) =>
  z.pipe(
    optionalText,
    z.pipe(
      z.transform((text: string | undefined) =>
        text === undefined ? fallback : /^\d{1,6}$/.test(text) ? Number(text) : Number.NaN,
      ),
      z.number().check(z.int(), z.gte(min), z.lte(max)),
    ),
  );

/** A whole number in [min, max], or undefined when unset. */
const optionalWholeNumber = (min: number, max: number) =>
  z.pipe(
    optionalText,
    z.optional(
      z.pipe(
        z.transform((text: string) => (/^\d{1,6}$/.test(text) ? Number(text) : Number.NaN)),
        z.number().check(z.int(), z.gte(min), z.lte(max)),
      ),
    ),
  );

const flag = (fallback: boolean) =>
  z.pipe(
    optionalText,
    z.pipe(
      z.transform((text: string | undefined) => (text === undefined ? String(fallback) : text.toLowerCase())),
      z.pipe(
        z.enum(["true", "false"]),
        z.transform((text) => text === "true"),
      ),
    ),
  );

const TENANT_ID = new RegExp(`^[A-Za-z0-9_-]{1,${MAX_ID_LENGTH}}$`);

/** Each variable: its schema and, when it fails, what it must be. */
const variables = {
  ENVIRONMENT: {
    schema: z.pipe(optionalText, z.optional(z.enum(ENVIRONMENTS))),
    expected: `must be one of ${ENVIRONMENTS.join(", ")}`,
  },
  TOKEN_TTL_SECONDS: {
    schema: wholeNumber(1, TOKEN_TTL_MAX_SECONDS, 300),
    expected: `must be a whole number from 1 to ${TOKEN_TTL_MAX_SECONDS}`,
  },
  CLOCK_TOLERANCE_SECONDS: {
    schema: wholeNumber(0, CLOCK_TOLERANCE_MAX_SECONDS, 5),
    expected: `must be a whole number from 0 to ${CLOCK_TOLERANCE_MAX_SECONDS}`,
  },
  VALIDATE_PATH: {
    schema: z.pipe(
      optionalText,
      z.pipe(
        z.transform((text: string | undefined) => text ?? DEFAULT_VALIDATE_PATH),
        z.string().check(
          z.regex(/^(\/[A-Za-z0-9._~-]+)+$/),
          z.refine((path) => !path.startsWith("/v1/") && path !== "/healthz"),
        ),
      ),
    ),
    expected:
      "must be a path such as /rest/... made of letters, digits and . _ ~ -, outside /v1/ and /healthz",
  },
  SESSION_TTL_SECONDS: {
    schema: wholeNumber(KV_MIN_TTL_SECONDS, SESSION_TTL_MAX_SECONDS, 3600),
    expected: `must be a whole number from ${KV_MIN_TTL_SECONDS} to ${SESSION_TTL_MAX_SECONDS}`,
  },
  SESSION_MAX_LIFETIME_SECONDS: {
    schema: wholeNumber(KV_MIN_TTL_SECONDS, SESSION_MAX_LIFETIME_MAX_SECONDS, 43_200),
    expected: `must be a whole number from ${KV_MIN_TTL_SECONDS} to ${SESSION_MAX_LIFETIME_MAX_SECONDS}`,
  },
  COOKIE_SAME_SITE: {
    schema: z.pipe(
      optionalText,
      z.pipe(
        z.transform((text: string | undefined) => {
          const lower = (text ?? "none").toLowerCase();
          return `${lower.charAt(0).toUpperCase()}${lower.slice(1)}`;
        }),
        z.enum(["Strict", "Lax", "None"]),
      ),
    ),
    expected: "must be Strict, Lax or None",
  },
  COOKIE_HTTP_ONLY: { schema: flag(true), expected: "must be true or false" },
  COOKIE_PARTITIONED: { schema: flag(false), expected: "must be true or false" },
  COOKIE_DOMAIN: {
    schema: z.pipe(
      optionalText,
      z.optional(z.string().check(z.regex(/^\.?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i))),
    ),
    expected: "must be a domain name such as example.com, or unset",
  },
  LOG_USER_IDS: {
    schema: z.pipe(
      optionalText,
      z.pipe(
        z.transform((text: string | undefined) => text ?? "hashed"),
        z.enum(["hashed", "raw"]),
      ),
    ),
    expected: "must be hashed or raw",
  },
  ALLOWED_ORIGINS: {
    schema: z.pipe(
      optionalText,
      z.pipe(
        z.transform((text: string | undefined) => (text === undefined ? [] : csv(text))),
        z.array(
          z
            .string()
            .check(
              z.regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$|^https?:\/\/\[[0-9a-fA-F:]+\](:\d{1,5})?$/),
            ),
        ),
      ),
    ),
    expected:
      "must be a comma-separated list of origins such as https://www.example.com (scheme, host, optional port)",
  },
  IDENTITY_ISSUERS: { schema: optionalText, expected: "must be a JSON array" },
  PLAYGROUND: {
    schema: z.pipe(optionalText, z.optional(z.enum(["on", "off"]))),
    expected: "must be on or off (or unset: on in development only)",
  },
  DOCS: {
    schema: z.pipe(
      optionalText,
      z.pipe(
        z.transform((text: string | undefined) => text ?? "on"),
        z.enum(["on", "off"]),
      ),
    ),
    expected: "must be on or off (or unset: on)",
  },
  CONSISTENCY: {
    schema: z.pipe(
      optionalText,
      z.pipe(
        z.transform((text: string | undefined) => text ?? "eventual"),
        z.enum(CONSISTENCY_MODES),
      ),
    ),
    expected: "must be eventual or strict (or unset: eventual)",
  },
  TOKEN_MAX_USES: {
    schema: optionalWholeNumber(1, TOKEN_MAX_USES_MAX),
    expected: `must be a whole number from 1 to ${TOKEN_MAX_USES_MAX} (or unset: unlimited)`,
  },
  LEDGER_SHARDS: {
    schema: wholeNumber(1, LEDGER_SHARDS_MAX, DEFAULT_LEDGER_SHARDS),
    expected: `must be a whole number from 1 to ${LEDGER_SHARDS_MAX}`,
  },
  LEDGER_LOCATION_HINT: {
    schema: z.pipe(optionalText, z.optional(z.enum(LEDGER_LOCATION_HINTS))),
    expected: `must be one of ${LEDGER_LOCATION_HINTS.join(", ")} (or unset: near the first caller)`,
  },
  TENANT_SPACE_IDS: {
    schema: z.pipe(
      optionalText,
      z.optional(
        z.pipe(z.transform(csv), z.array(z.string().check(z.regex(TENANT_ID))).check(z.minLength(1))),
      ),
    ),
    expected: `must be a comma-separated list of tenant space ids (letters, digits, _ or -, at most ${MAX_ID_LENGTH} each)`,
  },
  API_KEYS: {
    schema: z.pipe(
      optionalText,
      z.optional(
        z.pipe(
          z.transform(csv),
          z.array(z.string().check(z.minLength(MIN_API_KEY_LENGTH))).check(z.minLength(1)),
        ),
      ),
    ),
    expected: `must be one API key, or several separated by commas, each at least ${MIN_API_KEY_LENGTH} characters`,
  },
} as const;

type Variables = typeof variables;
type Parsed = { [Name in keyof Variables]: z.output<Variables[Name]["schema"]> };

/** Every variable of the table; one that fails is left out and its problem recorded. */
function parseVariables(env: ConfigEnv, problems: ConfigProblem[]): Partial<Parsed> {
  const parsed: Record<string, unknown> = {};
  for (const [name, { schema, expected }] of Object.entries(variables)) {
    const result = z.safeParse(schema as z.ZodMiniType, env[name as keyof ConfigEnv]);
    if (result.success) parsed[name] = result.data;
    else problems.push({ variable: name, reason: expected });
  }
  return parsed as Partial<Parsed>;
}

/** A deployed Worker may not run on the committed development secrets. */
const isDeployed = (environment: Environment) => environment === "production" || environment === "staging";

/** Set with `wrangler secret put`, never in wrangler.toml. */
export const SECRET_NAMES = ["SIGNING_KEYS", "API_KEYS"] as const;

export interface ParseOptions {
  /**
   * The wrangler environment (`--env <name>`) being checked, when known (preflight).
   * The Worker itself cannot see it and assumes the one named like ENVIRONMENT
   * (`production`, `staging`), as in wrangler.toml.
   */
  readonly wranglerEnvironment?: string;
}

/** Where an operator sets a variable, worded for the environment the Worker runs in. */
export function howToSet(name: string, environment: Environment, options: ParseOptions = {}): string {
  const named = options.wranglerEnvironment ?? (isDeployed(environment) ? environment : undefined);
  if ((SECRET_NAMES as readonly string[]).includes(name)) {
    return named
      ? `set it with \`wrangler secret put ${name} --env ${named}\``
      : `set it in .dev.vars, or with \`wrangler secret put ${name}\``;
  }
  return named
    ? `set it under [env.${named}.vars] in wrangler.toml`
    : "set it under [vars] in wrangler.toml, or in .dev.vars";
}

/**
 * Parses and checks every variable, then imports the keys. Throws one ConfigError
 * listing every problem found, each with the variable and what it must be.
 */
export async function parseConfig(env: ConfigEnv, options: ParseOptions = {}): Promise<Config> {
  const problems: ConfigProblem[] = [];
  let config: Config | undefined;
  try {
    config = await checkAndBuild(env, problems, options);
  } catch (error) {
    // A check that throws its own ConfigError adds to the list rather than hiding it.
    if (!(error instanceof ConfigError)) throw error;
    problems.push(...error.problems);
  }
  if (problems.length > 0 || config === undefined) throw new ConfigError(problems);
  return config;
}

async function checkAndBuild(
  env: ConfigEnv,
  problems: ConfigProblem[],
  options: ParseOptions,
): Promise<Config | undefined> {
  const vars = parseVariables(env, problems);
  // An ENVIRONMENT that does not parse is held to production's rules, the strictest.
  const environment = vars.ENVIRONMENT ?? "production";
  const failed = (name: string) => problems.some((problem) => problem.variable === name);

  /** A required setting: development falls back to its committed default, elsewhere it is a problem. */
  function required<T>(name: string, value: T | undefined, fallback: () => T): T | undefined {
    if (value !== undefined || failed(name)) return value;
    if (environment === "development") return fallback();
    problems.push({ variable: name, reason: `is not set (${howToSet(name, environment, options)})` });
    return undefined;
  }

  const tenantSpaceIds = required("TENANT_SPACE_IDS", vars.TENANT_SPACE_IDS, () =>
    csv(DEVELOPMENT_DEFAULTS.TENANT_SPACE_IDS),
  );
  const apiKeys = required("API_KEYS", vars.API_KEYS, () => csv(DEVELOPMENT_DEFAULTS.API_KEYS));
  const signingKeys = required(
    "SIGNING_KEYS",
    parseSigningKeysVariable(env, problems),
    () => parseSigningKeys(DEVELOPMENT_DEFAULTS.SIGNING_KEYS) as [RawSigningKey, ...RawSigningKey[]],
  );

  if (isDeployed(environment)) {
    if (signingKeys && holdsDevelopmentSigningKey(signingKeys)) {
      problems.push({
        variable: "SIGNING_KEYS",
        reason: `holds the committed development key, refused when ENVIRONMENT=${environment}; generate a real one with \`npm run keys -- generate\` and ${howToSet("SIGNING_KEYS", environment, options)}`,
      });
    }
    if (apiKeys && holdsDevelopmentApiKey(apiKeys)) {
      problems.push({
        variable: "API_KEYS",
        reason: `holds the committed development key, refused when ENVIRONMENT=${environment}; make a real one with \`npm run keys -- api-key\` and ${howToSet("API_KEYS", environment, options)}`,
      });
    }
    if (vars.ALLOWED_ORIGINS?.some((origin) => origin.startsWith("http:"))) {
      problems.push({
        variable: "ALLOWED_ORIGINS",
        reason: `may list only https origins when ENVIRONMENT=${environment}`,
      });
    }
  }

  const servedTenants = new Set(tenantSpaceIds);
  const identityIssuers =
    vars.IDENTITY_ISSUERS === undefined
      ? []
      : parseIdentityIssuers(vars.IDENTITY_ISSUERS, servedTenants, !isDeployed(environment));
  if (typeof identityIssuers === "string") {
    problems.push({ variable: "IDENTITY_ISSUERS", reason: identityIssuers });
  } else if (environment === "development") {
    identityIssuers.push(developmentIssuer(servedTenants));
  }

  const playground = vars.PLAYGROUND ?? (environment === "development" ? "on" : "off");
  if (playground === "on" && environment === "production") {
    problems.push({ variable: "PLAYGROUND", reason: "must be off when ENVIRONMENT=production" });
  }

  if (vars.TOKEN_MAX_USES !== undefined && vars.CONSISTENCY === "eventual") {
    problems.push({
      variable: "TOKEN_MAX_USES",
      reason:
        "needs CONSISTENCY=strict: Workers KV cannot count uses (docs/consistency.md); unset it, or set CONSISTENCY=strict",
    });
  }

  if (problems.length > 0 || !signingKeys || !apiKeys || typeof identityIssuers === "string")
    return undefined;
  // No problem was recorded, so every variable of the table parsed.
  const parsed = vars as Parsed;
  return {
    environment,
    playground: playground === "on",
    docs: parsed.DOCS === "on",
    identityIssuers,
    allowedOrigins: new Set(parsed.ALLOWED_ORIGINS),
    signingKeys: await importKeyRing(signingKeys, "token"),
    sessionKeys: await importKeyRing(signingKeys, "session-cookie"),
    logging: {
      userIds: parsed.LOG_USER_IDS,
      // Pseudonyms stay stable while the first key does; they change when it rotates.
      pseudonymKey: (await importKeyRing(signingKeys, "log-pseudonym")).current.key,
    },
    apiKeys: await buildApiKeyRing(apiKeys),
    tenantSpaceIds: servedTenants,
    tokenTtlSeconds: parsed.TOKEN_TTL_SECONDS,
    clockToleranceSeconds: parsed.CLOCK_TOLERANCE_SECONDS,
    validatePath: parsed.VALIDATE_PATH,
    consistency: {
      mode: parsed.CONSISTENCY,
      tokenMaxUses: parsed.TOKEN_MAX_USES ?? null,
      ledgerShards: parsed.LEDGER_SHARDS,
      ledgerLocationHint: parsed.LEDGER_LOCATION_HINT,
    },
    session: {
      ttlSeconds: parsed.SESSION_TTL_SECONDS,
      maxLifetimeSeconds: parsed.SESSION_MAX_LIFETIME_SECONDS,
      cookie: {
        sameSite: parsed.COOKIE_SAME_SITE,
        httpOnly: parsed.COOKIE_HTTP_ONLY,
        partitioned: parsed.COOKIE_PARTITIONED,
        domain: parsed.COOKIE_DOMAIN,
      },
    },
  };
}

function parseSigningKeysVariable(
  env: ConfigEnv,
  problems: ConfigProblem[],
): [RawSigningKey, ...RawSigningKey[]] | undefined {
  if (env.SIGNING_KEYS !== undefined && typeof env.SIGNING_KEYS !== "string") {
    problems.push({ variable: "SIGNING_KEYS", reason: "must be text" });
    return undefined;
  }
  const text = z.parse(optionalText, env.SIGNING_KEYS);
  if (text === undefined) return undefined;
  const keys = parseSigningKeys(text);
  if (typeof keys === "string") {
    problems.push({ variable: "SIGNING_KEYS", reason: keys });
    return undefined;
  }
  return keys as [RawSigningKey, ...RawSigningKey[]];
}

const cache = new WeakMap<object, Promise<Config>>();

/**
 * The configuration for this `env`, parsed once per isolate (the runtime hands every
 * request the same `env` object). A failure is cached too: it is a deployment error
 * that only a new deployment, and so a new isolate, can fix.
 */
export function loadConfig(env: ConfigEnv): Promise<Config> {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env);
    cache.set(env, config);
  }
  return config;
}
