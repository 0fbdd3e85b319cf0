import { type Decision, ok, type Refusal, refuse } from "../core/decision";
import { type IssueTokenRequest, identityIssueTokenRequest, issueTokenRequest } from "../core/schemas";
import { type ApiKeyHolder, type ApiKeyRing, matchApiKey } from "../crypto/api-keys";
import type { IdentityIssuer } from "../identity/issuers";
import { type VerifiedIdentity, verifyIdentity } from "../identity/verify-identity";

/**
 * Who is calling, and what they may ask for: the one place that decides it, for the
 * HTTP routes and the Workers RPC entrypoint alike.
 * - An enterprise backend, by API key: any user of the tenants its key may act for
 *   (API_KEY_SCOPES; every served tenant when unscoped); revocations; stats if unscoped.
 * - A signed-in user, by an identity token from IDENTITY_ISSUERS: a token for itself
 *   only, in a tenant its identity provider may serve.
 * - Another Worker of the enterprise, over a service binding: as trusted as an API key
 *   (only code the account deploys can hold the binding), scoped by the binding's
 *   `props.tenantSpaceIds` when the consumer sets it.
 */
export type Caller =
  | ({ readonly kind: "apiKey" } & ApiKeyHolder)
  | { readonly kind: "identity"; readonly identity: VerifiedIdentity }
  | {
      readonly kind: "serviceBinding";
      /** The binding's `props.name`, for logs. */
      readonly name: string | undefined;
      /** The binding's `props.tenantSpaceIds`; undefined = every served tenant. */
      readonly tenants: ReadonlySet<string> | undefined;
    };

/**
 * Whether this caller may act for `tenantSpaceId` (a served one): an API key or a service
 * binding only within its scope, refused as the tenant not being served (403, retCode 7),
 * naming the scope. A signed-in user's tenants are its identity provider's (permittedIssue).
 */
export function outOfScope(caller: Caller, tenantSpaceId: string): Refusal | undefined {
  if (caller.kind === "identity" || caller.tenants === undefined || caller.tenants.has(tenantSpaceId)) {
    return undefined;
  }
  const scope = caller.kind === "apiKey" ? "this API key's" : "this binding's";
  return refuse("tenantNotServed", `tenantSpaceId is not in ${scope} scope`);
}

/** The credentials a request presents, as found in its headers. */
export interface Credentials {
  /** `Authorization: Bearer <value>`. */
  readonly bearer: string | undefined;
  /** Whether an Authorization header was sent at all (a guess worth an event). */
  readonly authorizationSent: boolean;
  /** Cloudflare Access's `Cf-Access-Jwt-Assertion`. */
  readonly accessAssertion: string | undefined;
}

/**
 * Another Worker over a service binding, as the binding's `props` describe it (set by the
 * consumer's wrangler.toml, `[services.props]`, so only the account's own deployments can
 * set them): `name` for logs, `tenantSpaceIds` to scope it. Props that name no served
 * tenant are that binding's misconfiguration (retCode 11), never a wider scope.
 */
export function serviceBindingCaller(props: unknown, servedTenants: ReadonlySet<string>): Decision<Caller> {
  const { name, tenantSpaceIds } = (typeof props === "object" && props !== null ? props : {}) as {
    name?: unknown;
    tenantSpaceIds?: unknown;
  };
  const named = typeof name === "string" && /^[A-Za-z0-9._-]{1,64}$/.test(name) ? name : undefined;
  if (tenantSpaceIds === undefined) return ok({ kind: "serviceBinding", name: named, tenants: undefined });
  if (
    !Array.isArray(tenantSpaceIds) ||
    tenantSpaceIds.length === 0 ||
    !tenantSpaceIds.every((id) => typeof id === "string" && servedTenants.has(id))
  ) {
    return refuse(
      "misconfigured",
      "props.tenantSpaceIds of the calling service binding must be a non-empty array of tenant space ids in TENANT_SPACE_IDS",
    );
  }
  return ok({ kind: "serviceBinding", name: named, tenants: new Set(tenantSpaceIds as string[]) });
}

/** A compact JWS: what an identity token looks like, and an API key never does. */
const JWT = /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** An enterprise backend by API key, compared in constant time (src/crypto/api-keys.ts). */
export async function apiKeyCaller(apiKeys: ApiKeyRing, credentials: Credentials): Promise<Decision<Caller>> {
  const holder = credentials.bearer ? await matchApiKey(apiKeys, credentials.bearer) : undefined;
  if (holder) return ok({ kind: "apiKey", ...holder });
  // Same answer either way; only a credential actually presented is a guess worth an event.
  return refuse(
    "unauthorized",
    undefined,
    credentials.authorizationSent ? { securityEvent: "api_key_rejected" } : {},
  );
}

export interface IssuerOptions {
  readonly apiKeys: ApiKeyRing;
  readonly identityIssuers: readonly IdentityIssuer[];
  readonly clockToleranceSeconds: number;
}

/**
 * Who may ask for a token: an API key, or an identity JWT from one of IDENTITY_ISSUERS
 * (`Authorization: Bearer <JWT>`, or Cloudflare Access's assertion where an issuer with
 * `source: "cloudflare-access"` is configured). A provider that cannot serve its keys
 * throws (503, retCode 13).
 */
export async function issuingCaller(
  options: IssuerOptions,
  credentials: Credentials,
): Promise<Decision<Caller>> {
  const { bearer, accessAssertion } = credentials;
  const bySource = (source: IdentityIssuer["source"]) =>
    options.identityIssuers.filter((issuer) => issuer.source === source);
  const bearerIssuers = bySource("authorization");
  const accessIssuers = bySource("cloudflare-access");
  const identityToken =
    bearer && JWT.test(bearer) && bearerIssuers.length > 0
      ? { token: bearer, issuers: bearerIssuers }
      : !bearer && accessAssertion && accessIssuers.length > 0
        ? { token: accessAssertion, issuers: accessIssuers }
        : undefined;
  if (!identityToken) return apiKeyCaller(options.apiKeys, credentials);
  const verified = await verifyIdentity(
    identityToken.token,
    identityToken.issuers,
    options.clockToleranceSeconds,
  );
  return verified.outcome === "ok" ? ok({ kind: "identity", identity: verified.value }) : verified;
}

/** What a caller may be issued: the request, and a signed-in user's sign-in time. */
export interface IssueGrant {
  readonly request: IssueTokenRequest;
  readonly signedInAt?: number;
}

/** The body `POST /v1/tokens` takes from this caller: a signed-in user need not name itself. */
export const issueBodyFor = (caller: Caller) =>
  caller.kind === "identity" ? identityIssueTokenRequest : issueTokenRequest;

/**
 * What this caller may be issued. A backend names the user; a signed-in user gets a
 * token for itself only: the body may repeat its identity but not name another, and may
 * ask only for a tenant its identity provider may serve. (Whether the deployment serves
 * the tenant at all is the issuance's own rule: src/domain/tokens/issue-token.ts.)
 */
export function permittedIssue(
  caller: Caller,
  body:
    | IssueTokenRequest
    | { tenantSpaceId: string; userId?: string; userName?: string; ttlSeconds?: number },
  servedTenants: ReadonlySet<string>,
): Decision<IssueGrant> {
  if (caller.kind !== "identity") {
    // A tenant not served at all is the issuance's own refusal; a served one outside the scope is this.
    const scoped = servedTenants.has(body.tenantSpaceId) ? outOfScope(caller, body.tenantSpaceId) : undefined;
    return scoped ?? ok({ request: body as IssueTokenRequest });
  }
  const { identity } = caller;
  for (const field of ["userId", "userName"] as const) {
    if (body[field] !== undefined && body[field] !== identity[field]) {
      return refuse("notPermitted", `${field} is not the signed-in user's`);
    }
  }
  if (servedTenants.has(body.tenantSpaceId) && !identity.tenantSpaceIds.has(body.tenantSpaceId)) {
    return refuse("notPermitted", "tenantSpaceId is not allowed for this identity provider");
  }
  return ok({
    request: { ...body, userId: identity.userId, userName: identity.userName },
    // Issuance refuses a sign-in older than the user's revocation (src/domain/tokens/issue-token.ts).
    signedInAt: identity.signedInAt,
  });
}
