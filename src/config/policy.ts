import type { ApiKeyEntry } from "../crypto/api-keys";
import type { RawSigningKey } from "../crypto/signing-keys";
import { holdsDevelopmentApiKey, holdsDevelopmentSigningKey } from "./development";
import type { ConfigProblem, Environment } from "./variables";

/**
 * Environment policy: what a deployed Worker (production, staging) refuses that local
 * development allows, and where an operator fixes each variable.
 */

/** A deployed Worker may not run on the committed development secrets. */
export const isDeployed = (environment: Environment) =>
  environment === "production" || environment === "staging";

/** Set with `wrangler secret put`, never in wrangler.toml. */
export const SECRET_NAMES = ["SIGNING_KEYS", "API_KEYS"] as const;

export interface ParseOptions {
  /**
   * The wrangler environment (`--env <name>`) being checked, when known (preflight).
   * The Worker itself cannot see it and assumes the one named like ENVIRONMENT
   * (`production`, `staging`), as in wrangler.toml.
   */
  readonly wranglerEnvironment?: string;
  /**
   * Whether the bindings are checked too (src/config/bindings.ts): the Worker's own load
   * does; preflight reads wrangler.toml's tables itself and passes variables only.
   */
  readonly checkBindings?: boolean;
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

/** What the environment refuses in settings that each parsed on its own. */
export function environmentProblems(
  environment: Environment,
  settings: {
    readonly signingKeys: readonly RawSigningKey[] | undefined;
    readonly apiKeys: readonly ApiKeyEntry[] | undefined;
    readonly allowedOrigins: readonly string[] | undefined;
    readonly playground: "on" | "off";
  },
  options: ParseOptions,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (settings.playground === "on" && environment === "production") {
    problems.push({ variable: "PLAYGROUND", reason: "must be off when ENVIRONMENT=production" });
  }
  if (!isDeployed(environment)) return problems;
  if (settings.signingKeys && holdsDevelopmentSigningKey(settings.signingKeys)) {
    problems.push({
      variable: "SIGNING_KEYS",
      reason: `holds the committed development key, refused when ENVIRONMENT=${environment}; generate a real one with \`npm run keys -- generate\` and ${howToSet("SIGNING_KEYS", environment, options)}`,
    });
  }
  if (settings.apiKeys && holdsDevelopmentApiKey(settings.apiKeys)) {
    problems.push({
      variable: "API_KEYS",
      reason: `holds the committed development key, refused when ENVIRONMENT=${environment}; make a real one with \`npm run keys -- api-key\` and ${howToSet("API_KEYS", environment, options)}`,
    });
  }
  if (settings.allowedOrigins?.some((origin) => origin.startsWith("http:"))) {
    problems.push({
      variable: "ALLOWED_ORIGINS",
      reason: `may list only https origins when ENVIRONMENT=${environment}`,
    });
  }
  return problems;
}
