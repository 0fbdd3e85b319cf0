import * as z from "zod/mini";
import { type Decision, ok, refuse } from "../core/decision";
import { type KeySource, remoteKeySource } from "./key-source";

/**
 * An enterprise identity provider whose JWTs may stand in for an API key on
 * `POST /v1/tokens` (README, "Enterprise sign-in"). `IDENTITY_ISSUERS` is a JSON array
 * of these. `source: "cloudflare-access"` reads the token from Cloudflare Access's
 * `Cf-Access-Jwt-Assertion` header instead of `Authorization: Bearer`.
 */
export interface IdentityIssuer {
  readonly issuer: string;
  readonly audience: readonly string[];
  /** Where its keys come from, resolved once per configuration (src/identity/key-source.ts). */
  readonly keySource: KeySource;
  readonly userIdClaim: string;
  /**
   * Written before the user id claim, so that user ids from different providers cannot
   * collide (`"corp:"` + `"ceo@corp"`). Empty for none: allowed only for an issuer that
   * shares no tenant with another.
   */
  readonly userIdPrefix: string;
  readonly userNameClaim: string;
  readonly tenantSpaceIds: ReadonlySet<string>;
  readonly algorithms: readonly string[];
  readonly source: "authorization" | "cloudflare-access";
}

/** Asymmetric algorithms only: a provider's public keys must never double as HMAC secrets. */
export const IDENTITY_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
] as const;
const DEFAULT_ALGORITHMS = ["RS256", "ES256", "PS256", "EdDSA"];

const text = z.string().check(z.minLength(1), z.maxLength(512));
const claimName = z.string().check(z.regex(/^[A-Za-z0-9_.:-]{1,64}$/));
/** Short and plain: it becomes part of every user id the issuer's tokens carry. */
const userIdPrefix = z.string().check(z.regex(/^[A-Za-z0-9_.:@/-]{1,32}$/));
const entry = z.object({
  issuer: text,
  audience: z.union([text, z.array(text).check(z.minLength(1))]),
  jwksUri: z.url(),
  userIdClaim: z.optional(claimName),
  userNameClaim: z.optional(claimName),
  userIdPrefix: z.optional(userIdPrefix),
  tenantSpaceIds: z.array(text).check(z.minLength(1)),
  algorithms: z.optional(z.array(z.enum(IDENTITY_ALGORITHMS)).check(z.minLength(1))),
  source: z.optional(z.enum(["authorization", "cloudflare-access"])),
});

const LOCAL_HOST = /^(localhost|127\.0\.0\.1|\[::1\])$/;

/**
 * Parses IDENTITY_ISSUERS; a refusal (misconfigured) names the entry and field but
 * never a value. `allowLocalHttp`: a JWKS on http://localhost is
 * accepted outside production and staging, for local providers.
 */
export function parseIdentityIssuers(
  json: string,
  servedTenants: ReadonlySet<string>,
  allowLocalHttp: boolean,
): Decision<IdentityIssuer[]> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return misconfigured(NOT_AN_ARRAY);
  }
  if (!Array.isArray(value)) return misconfigured(NOT_AN_ARRAY);
  const issuers: IdentityIssuer[] = [];
  for (const [index, raw] of value.entries()) {
    const parsed = z.safeParse(entry, raw);
    const where = `entry ${index + 1}`;
    if (!parsed.success) {
      const field = parsed.error.issues[0]?.path.join(".") || "the entry";
      return misconfigured(`${where}: ${field} is missing or invalid`);
    }
    const { issuer, audience, jwksUri, tenantSpaceIds } = parsed.data;
    const url = new URL(jwksUri);
    if (
      url.protocol !== "https:" &&
      !(allowLocalHttp && url.protocol === "http:" && LOCAL_HOST.test(url.hostname))
    ) {
      return misconfigured(`${where}: jwksUri must be an https URL`);
    }
    const unserved = tenantSpaceIds.findIndex((tenant) => !servedTenants.has(tenant));
    if (unserved >= 0)
      return misconfigured(`${where}: tenantSpaceIds[${unserved}] is not in TENANT_SPACE_IDS`);
    if (issuers.some((known) => known.issuer === issuer)) return misconfigured(`${where}: repeats an issuer`);
    issuers.push({
      issuer,
      audience: typeof audience === "string" ? [audience] : audience,
      keySource: remoteKeySource(jwksUri),
      userIdClaim: parsed.data.userIdClaim ?? "sub",
      userIdPrefix: parsed.data.userIdPrefix ?? "",
      userNameClaim: parsed.data.userNameClaim ?? "name",
      tenantSpaceIds: new Set(tenantSpaceIds),
      algorithms: parsed.data.algorithms ?? DEFAULT_ALGORITHMS,
      source: parsed.data.source ?? "authorization",
    });
  }
  const collision = collidingPrefixes(issuers);
  return collision ? misconfigured(collision) : ok(issuers);
}

const NOT_AN_ARRAY = "must be a JSON array of {issuer, audience, jwksUri, tenantSpaceIds, ...}";
const misconfigured = (reason: string) => refuse("misconfigured", reason);

/**
 * Two issuers that serve one tenant could each assert the same user id. Their prefixes
 * keep them apart only if neither is the start of the other ("" starts every string):
 * then no prefixed id from one can equal a prefixed id from the other.
 */
function collidingPrefixes(issuers: readonly IdentityIssuer[]): string | undefined {
  for (const [second, later] of issuers.entries()) {
    for (const [first, earlier] of issuers.slice(0, second).entries()) {
      const sharesTenant = [...later.tenantSpaceIds].some((tenant) => earlier.tenantSpaceIds.has(tenant));
      const apart =
        !later.userIdPrefix.startsWith(earlier.userIdPrefix) &&
        !earlier.userIdPrefix.startsWith(later.userIdPrefix);
      if (sharesTenant && !apart) {
        return `entries ${first + 1} and ${second + 1} serve the same tenant: give each a userIdPrefix, neither the start of the other`;
      }
    }
  }
  return undefined;
}
