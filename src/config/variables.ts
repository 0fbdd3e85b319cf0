import * as z from "zod/mini";
import {
  CLOCK_TOLERANCE_MAX_SECONDS,
  KV_MEMO_SECONDS,
  KV_MIN_TTL_SECONDS,
  MAX_ID_LENGTH,
  MIN_API_KEY_LENGTH,
  SESSION_MAX_LIFETIME_MAX_SECONDS,
  SESSION_TTL_MAX_SECONDS,
  TOKEN_TTL_MAX_SECONDS,
} from "../core/constants";
import { FORBIDDEN_CHARACTER } from "../core/text";
import { parseApiKeyEntry } from "../crypto/api-keys";
import { parseSigningKeys, type RawSigningKey } from "../crypto/signing-keys";

/**
 * Parsing: each variable's schema, its default, and what it must be when it fails. The
 * defaults live here and nowhere else (wrangler.toml lists only what differs).
 */

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

/** The ceiling on TOKEN_MAX_USES: a token CEC validates more often than this is not single-use in any useful sense. */
const TOKEN_MAX_USES_MAX = 1_000;

/**
 * STORE_DEADLINE_MS's range. A KV read or a ledger call takes milliseconds to a few
 * hundred (docs/consistency.md, "Latency"); under 10 ms would fail healthy calls, and past
 * 10 s CEC's own call would time out before our 503 reached it.
 */
const STORE_DEADLINE_MIN_MS = 10;
const STORE_DEADLINE_MAX_MS = 10_000;

export const DEFAULT_VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

/** One variable at fault and what it must be; never its value. */
export interface ConfigProblem {
  readonly variable: string;
  readonly reason: string;
}

/** The variables this module reads: the contract with operators (README, "Configuration"). */
export interface ConfigEnv {
  ENVIRONMENT?: unknown;
  SIGNING_KEYS?: unknown;
  API_KEYS?: unknown;
  API_KEY_SCOPES?: unknown;
  TENANT_SPACE_IDS?: unknown;
  TOKEN_TTL_SECONDS?: unknown;
  CLOCK_TOLERANCE_SECONDS?: unknown;
  VALIDATE_PATH?: unknown;
  SESSION_TTL_SECONDS?: unknown;
  SESSION_MAX_LIFETIME_SECONDS?: unknown;
  CHANNEL_IDS?: unknown;
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
  LEDGER_LOCATION_HINT?: unknown;
  CONSISTENCY_EPOCH?: unknown;
  STORE_DEADLINE_MS?: unknown;
  KV_MEMO_SECONDS?: unknown;
  // Bindings, checked by src/config/bindings.ts.
  TOKENS?: unknown;
  LEDGER?: unknown;
  ISSUE_LIMITER?: unknown;
  END_LIMITER?: unknown;
  SESSION_LIMITER?: unknown;
  TOKEN_LIMITER?: unknown;
  ADDRESS_LIMITER?: unknown;
}

export const csv = (text: string) =>
  text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);

/** Unset, or set to an empty string in wrangler.toml, both mean "use the default". */
/**
 * CONSISTENCY_EPOCH as a time: seconds since the epoch of the switch (a date alone is its
 * midnight, UTC). NaN for what is not a date.
 */
export function epochStartsAt(text: string): number {
  return Date.parse(text.length === 10 ? `${text}T00:00:00Z` : text) / 1000;
}

export const optionalText = z.pipe(
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
  CHANNEL_IDS: {
    schema: z.pipe(
      optionalText,
      z.optional(
        z.pipe(
          z.transform(csv),
          z
            .array(
              z.string().check(
                z.maxLength(MAX_ID_LENGTH),
                z.refine((channel) => !FORBIDDEN_CHARACTER.test(channel)),
              ),
            )
            .check(z.minLength(1)),
        ),
      ),
    ),
    expected: `must be a comma-separated list of channel ids (at most ${MAX_ID_LENGTH} characters each, no control or invisible formatting characters), or unset for any channel`,
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
  CONSISTENCY_EPOCH: {
    schema: z.pipe(
      optionalText,
      z.optional(
        z.string().check(
          z.regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?Z)?$/),
          z.refine((text) => {
            const startsAt = epochStartsAt(text);
            // Not in the future: identity tokens from before it are refused until then.
            return Number.isFinite(startsAt) && startsAt <= Date.now() / 1000 + CLOCK_TOLERANCE_MAX_SECONDS;
          }),
        ),
      ),
    ),
    expected:
      "must be the switch's UTC date or time, not in the future, such as 2026-12-02 or 2026-12-02T03:00Z (or unset)",
  },
  KV_MEMO_SECONDS: {
    schema: wholeNumber(0, KV_MEMO_SECONDS, KV_MEMO_SECONDS),
    expected: `must be a whole number from 0 (read KV every time) to ${KV_MEMO_SECONDS}`,
  },
  STORE_DEADLINE_MS: {
    schema: wholeNumber(STORE_DEADLINE_MIN_MS, STORE_DEADLINE_MAX_MS, 2_000),
    expected: `must be a whole number of milliseconds from ${STORE_DEADLINE_MIN_MS} to ${STORE_DEADLINE_MAX_MS}`,
  },
  TOKEN_MAX_USES: {
    schema: optionalWholeNumber(1, TOKEN_MAX_USES_MAX),
    expected: `must be a whole number from 1 to ${TOKEN_MAX_USES_MAX} (or unset: unlimited)`,
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
          z.transform((text: string) => csv(text).map(parseApiKeyEntry)),
          z
            .array(
              z.object({
                name: z.optional(z.string()),
                key: z.string().check(z.minLength(MIN_API_KEY_LENGTH)),
              }),
            )
            .check(z.minLength(1)),
        ),
      ),
    ),
    expected: `must be one API key, or several separated by commas, each at least ${MIN_API_KEY_LENGTH} characters and optionally named (name:key, the name of letters, digits, '.', '_' or '-')`,
  },
  API_KEY_SCOPES: { schema: optionalText, expected: "must be a JSON object" },
} as const;

type Variables = typeof variables;
export type Parsed = { [Name in keyof Variables]: z.output<Variables[Name]["schema"]> };

/** Every variable of the table; one that fails is left out and its problem recorded. */
/** Every variable the Worker reads (README, "Configuration"): anything else is ignored. */
export const VARIABLE_NAMES: readonly string[] = [...Object.keys(variables), "SIGNING_KEYS"];

export function parseVariables(env: ConfigEnv, problems: ConfigProblem[]): Partial<Parsed> {
  const parsed: Record<string, unknown> = {};
  for (const [name, { schema, expected }] of Object.entries(variables)) {
    const result = z.safeParse(schema as z.ZodMiniType, env[name as keyof ConfigEnv]);
    if (result.success) parsed[name] = result.data;
    else problems.push({ variable: name, reason: expected });
  }
  return parsed as Partial<Parsed>;
}

export function parseSigningKeysVariable(
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
