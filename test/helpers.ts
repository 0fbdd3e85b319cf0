import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { base64url, SignJWT } from "jose";
import worker from "../src/index";
import { TEST_API_KEY, TEST_SIGNING_KEY_CURRENT, TEST_TENANT } from "./test-env";

export const ORIGIN = "https://edge.test";
export const VALIDATE_PATH = "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate";

export interface Identity {
  userId: string;
  userName: string;
  tenantSpaceId: string;
}

let users = 0;
/** A fresh identity per call, so tests never share rate-limit counters or records. */
export function newIdentity(overrides: Partial<Identity> = {}): Identity {
  users += 1;
  return {
    userId: `user-${users}-${crypto.randomUUID()}`,
    userName: `User ${users}`,
    tenantSpaceId: TEST_TENANT,
    ...overrides,
  };
}

export function jsonRequest(path: string, body: unknown, init: RequestInit = {}): Request {
  return new Request(`${ORIGIN}${path}`, {
    method: "POST",
    ...init,
    headers: { "Content-Type": "application/json", ...(init.headers as Record<string, string>) },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A request to the Worker as deployed by the test configuration. */
export function call(request: Request): Promise<Response> {
  return exports.default.fetch(request);
}

/**
 * The same Worker with some bindings replaced: other configurations, faulty KV. Calls
 * with the same variables (strings only) share one `env` object, as every request of an
 * isolate does, so the configuration parsed for it (and what it holds, such as identity
 * providers' key sets) lives across those calls as it would when deployed.
 */
export async function callWith(
  overrides: Partial<Record<keyof Env, unknown>>,
  request: Request,
): Promise<Response> {
  const ctx = createExecutionContext();
  const response = await worker.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    envWith(overrides),
    ctx,
  );
  await waitOnExecutionContext(ctx);
  return response;
}

const envsByVariables = new Map<string, Env>();

function envWith(overrides: Partial<Record<keyof Env, unknown>>): Env {
  const onlyVariables = Object.values(overrides).every(
    (value) => value === undefined || typeof value === "string",
  );
  if (!onlyVariables) return { ...env, ...overrides } as Env;
  const key = JSON.stringify(Object.entries(overrides).sort(([a], [b]) => a.localeCompare(b)));
  let shared = envsByVariables.get(key);
  if (!shared) {
    shared = { ...env, ...overrides } as Env;
    envsByVariables.set(key, shared);
  }
  return shared;
}

export const bearer = (key = TEST_API_KEY) => ({ Authorization: `Bearer ${key}` });

export interface IssuedBody {
  token: string;
  tokenId: string;
  expiresAt: string;
  expiresIn: number;
}

export async function issue(
  identity: Identity,
  extra: Record<string, unknown> = {},
  send: (request: Request) => Promise<Response> = call,
): Promise<IssuedBody> {
  const response = await send(jsonRequest("/v1/tokens", { ...identity, ...extra }, { headers: bearer() }));
  if (response.status !== 201) throw new Error(`issue failed: ${response.status} ${await response.text()}`);
  return response.json();
}

export function validateRequest(token: string, identity: Identity, path = VALIDATE_PATH): Request {
  return jsonRequest(path, { Token: token, ...identity });
}

export async function validate(
  token: string,
  identity: Identity,
  send: (request: Request) => Promise<Response> = call,
): Promise<{ status: number; body: { retCode: number; message: string } }> {
  const response = await send(validateRequest(token, identity));
  return { status: response.status, body: await response.json() };
}

/**
 * Signs arbitrary claims and header with a test key, for tokens the service would
 * never issue (expired, wrong claims, foreign keys).
 */
export async function mintToken(
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
  key: { kid: string; secret: string } = TEST_SIGNING_KEY_CURRENT,
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "cec-chat+jwt", kid: key.kid, ...header })
    .sign(base64url.decode(key.secret));
}

/** Claims as the service writes them, for `identity`, issued `ageSeconds` ago. */
export function claimsFor(
  identity: Identity,
  { ageSeconds = 0, ttlSeconds = 300, tokenId = randomTokenId() } = {},
) {
  const iat = Math.floor(Date.now() / 1000) - ageSeconds;
  return {
    iss: "cec-edge-token",
    sub: identity.userId,
    name: identity.userName,
    tenant_space_id: identity.tenantSpaceId,
    jti: tokenId,
    iat,
    exp: iat + ttlSeconds,
  };
}

export function randomTokenId(): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(16)));
}

/** The KV key of a token's record, computed independently of the code under test. */
export async function recordKeyFor(tokenId: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(tokenId));
  return `token:${base64url.encode(new Uint8Array(digest))}`;
}

/** Bindings that make the Worker a development deployment on its committed development secrets. */
export const DEVELOPMENT_ENV = {
  ENVIRONMENT: "development",
  SIGNING_KEYS: undefined,
  API_KEYS: undefined,
  TENANT_SPACE_IDS: "",
} as const;
