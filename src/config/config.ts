import * as z from "zod/mini";
import {
  CLOCK_TOLERANCE_MAX_SECONDS,
  KV_MIN_TTL_SECONDS,
  MAX_ID_LENGTH,
  MIN_API_KEY_LENGTH,
  SESSION_MAX_LIFETIME_MAX_SECONDS,
  SESSION_TTL_MAX_SECONDS,
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

/** Names the variable and what it must be; never carries the value. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(`${variable} ${reason}`);
    this.name = "ConfigError";
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

function parseVariable<Name extends keyof Variables>(env: ConfigEnv, name: Name): Parsed[Name] {
  const result = z.safeParse(variables[name].schema as z.ZodMiniType, env[name]);
  if (!result.success) throw new ConfigError(name, variables[name].expected);
  return result.data as Parsed[Name];
}

/** A deployed Worker may not run on the committed development secrets. */
const isDeployed = (environment: Environment) => environment === "production" || environment === "staging";

/** Where an operator sets each required variable: secrets with wrangler, the rest in wrangler.toml. */
const HOW_TO_SET: Record<string, string> = {
  SIGNING_KEYS: "set it with `wrangler secret put SIGNING_KEYS`",
  API_KEYS: "set it with `wrangler secret put API_KEYS`",
  TENANT_SPACE_IDS: "set it under [vars] in wrangler.toml",
};

function requireSetting<T>(
  name: string,
  value: T | undefined,
  environment: Environment,
  fallback: () => T,
): T {
  if (value !== undefined) return value;
  if (environment === "development") return fallback();
  throw new ConfigError(name, `is not set (${HOW_TO_SET[name]})`);
}

/** Parses and checks every variable, then imports the keys. Throws ConfigError. */
export async function parseConfig(env: ConfigEnv): Promise<Config> {
  const environment = parseVariable(env, "ENVIRONMENT") ?? "production";
  const tokenTtlSeconds = parseVariable(env, "TOKEN_TTL_SECONDS");
  const clockToleranceSeconds = parseVariable(env, "CLOCK_TOLERANCE_SECONDS");
  const validatePath = parseVariable(env, "VALIDATE_PATH");
  const session: SessionConfig = {
    ttlSeconds: parseVariable(env, "SESSION_TTL_SECONDS"),
    maxLifetimeSeconds: parseVariable(env, "SESSION_MAX_LIFETIME_SECONDS"),
    cookie: {
      sameSite: parseVariable(env, "COOKIE_SAME_SITE"),
      httpOnly: parseVariable(env, "COOKIE_HTTP_ONLY"),
      partitioned: parseVariable(env, "COOKIE_PARTITIONED"),
      domain: parseVariable(env, "COOKIE_DOMAIN"),
    },
  };

  const tenantSpaceIds = requireSetting(
    "TENANT_SPACE_IDS",
    parseVariable(env, "TENANT_SPACE_IDS"),
    environment,
    () => csv(DEVELOPMENT_DEFAULTS.TENANT_SPACE_IDS),
  );
  const apiKeys = requireSetting("API_KEYS", parseVariable(env, "API_KEYS"), environment, () =>
    csv(DEVELOPMENT_DEFAULTS.API_KEYS),
  );
  const signingKeys = requireSetting(
    "SIGNING_KEYS",
    parseSigningKeysVariable(env),
    environment,
    () => parseSigningKeys(DEVELOPMENT_DEFAULTS.SIGNING_KEYS) as [RawSigningKey, ...RawSigningKey[]],
  );

  if (isDeployed(environment)) {
    if (holdsDevelopmentSigningKey(signingKeys)) {
      throw new ConfigError(
        "SIGNING_KEYS",
        `holds the committed development key, refused when ENVIRONMENT=${environment}; generate a real one with \`npm run keys -- generate\``,
      );
    }
    if (holdsDevelopmentApiKey(apiKeys)) {
      throw new ConfigError(
        "API_KEYS",
        `holds the committed development key, refused when ENVIRONMENT=${environment}`,
      );
    }
  }

  const servedTenants = new Set(tenantSpaceIds);
  const allowedOrigins = parseVariable(env, "ALLOWED_ORIGINS");
  if (isDeployed(environment) && allowedOrigins.some((origin) => origin.startsWith("http:"))) {
    throw new ConfigError("ALLOWED_ORIGINS", `may list only https origins when ENVIRONMENT=${environment}`);
  }
  const issuersText = parseVariable(env, "IDENTITY_ISSUERS");
  const identityIssuers =
    issuersText === undefined
      ? []
      : parseIdentityIssuers(issuersText, servedTenants, !isDeployed(environment));
  if (typeof identityIssuers === "string") throw new ConfigError("IDENTITY_ISSUERS", identityIssuers);
  if (environment === "development") identityIssuers.push(developmentIssuer(servedTenants));

  const playground = parseVariable(env, "PLAYGROUND") ?? (environment === "development" ? "on" : "off");
  if (playground === "on" && environment === "production") {
    throw new ConfigError("PLAYGROUND", "must be off when ENVIRONMENT=production");
  }

  return {
    environment,
    playground: playground === "on",
    docs: parseVariable(env, "DOCS") === "on",
    identityIssuers,
    allowedOrigins: new Set(allowedOrigins),
    signingKeys: await importKeyRing(signingKeys, "token"),
    sessionKeys: await importKeyRing(signingKeys, "session-cookie"),
    logging: {
      userIds: parseVariable(env, "LOG_USER_IDS"),
      // Pseudonyms stay stable while the first key does; they change when it rotates.
      pseudonymKey: (await importKeyRing(signingKeys, "log-pseudonym")).current.key,
    },
    apiKeys: await buildApiKeyRing(apiKeys),
    tenantSpaceIds: servedTenants,
    tokenTtlSeconds,
    clockToleranceSeconds,
    validatePath,
    session,
  };
}

function parseSigningKeysVariable(env: ConfigEnv): [RawSigningKey, ...RawSigningKey[]] | undefined {
  const text = z.parse(optionalText, typeof env.SIGNING_KEYS === "string" ? env.SIGNING_KEYS : undefined);
  if (text === undefined) {
    if (env.SIGNING_KEYS !== undefined && typeof env.SIGNING_KEYS !== "string") {
      throw new ConfigError("SIGNING_KEYS", "must be text");
    }
    return undefined;
  }
  const keys = parseSigningKeys(text);
  if (typeof keys === "string") throw new ConfigError("SIGNING_KEYS", keys);
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
