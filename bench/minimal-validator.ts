/**
 * The floor for CEC's validate call, for `npm run bench` only (never deployed): what any
 * validator of these tokens has to do, hand-written with no framework. It reads the body
 * and checks its four fields, verifies the HS256 signature with crypto.subtle, checks
 * the claims (iss, typ, exp, iat, sub, name, tenant_space_id) against the body, and reads
 * KV: one get (the token's record), or two made together (the token's record and the
 * user's revocation, as the service does). The service's validate CPU is reported as a
 * ratio to this (docs/benchmarks.md).
 *
 * Left out on purpose, because they are the service's guarantees rather than the job's
 * floor: rate limits, hashed KV keys, schema-checked KV values, control-character and
 * length checks, canonical-signature and key-rotation handling, logging, metrics,
 * security headers and request ids.
 */
const ISSUER = "cec-edge-token";
const TYPE = "cec-chat+jwt";
const CLOCK_TOLERANCE_SECONDS = 60;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface VerifyKey {
  readonly kid: string;
  readonly key: CryptoKey;
}

/** Imported once per isolate (per env object), as the service does. */
const keys = new WeakMap<object, Promise<VerifyKey>>();

function bytesOf(base64url: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64url.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The first `kid:secret` pair of SIGNING_KEYS. */
function verifyKeyFor(env: Env): Promise<VerifyKey> {
  let key = keys.get(env);
  if (!key) {
    const [first = ""] = String(env.SIGNING_KEYS).split(",");
    const separator = first.indexOf(":");
    const kid = first.slice(0, separator);
    key = crypto.subtle
      .importKey("raw", bytesOf(first.slice(separator + 1)), { name: "HMAC", hash: "SHA-256" }, false, [
        "verify",
      ])
      .then((imported) => ({ kid, key: imported }));
    keys.set(env, key);
  }
  return key;
}

function segment(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytesOf(text)));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const answer = (retCode: number, message: string, status = 200) =>
  Response.json({ retCode, message }, { status });

export async function minimalValidate(request: Request, env: Env, kvReads: 1 | 2): Promise<Response> {
  let body: Record<string, unknown> | undefined;
  try {
    body = (await request.json()) as Record<string, unknown>;
  } catch {
    return answer(1, "malformed request", 400);
  }
  const { Token, userId, userName, tenantSpaceId } = body ?? {};
  if (
    typeof Token !== "string" ||
    typeof userId !== "string" ||
    typeof userName !== "string" ||
    typeof tenantSpaceId !== "string"
  ) {
    return answer(1, "malformed request", 400);
  }

  const [headerText = "", payloadText = "", signature = "", extra] = Token.split(".");
  if (extra !== undefined) return answer(2, "token invalid");
  const { kid, key } = await verifyKeyFor(env);
  const header = segment(headerText);
  if (header?.alg !== "HS256" || header.typ !== TYPE || header.kid !== kid) return answer(2, "token invalid");
  const signed = await crypto.subtle.verify(
    "HMAC",
    key,
    bytesOf(signature),
    encoder.encode(`${headerText}.${payloadText}`),
  );
  if (!signed) return answer(2, "token invalid");

  const claims = segment(payloadText);
  const now = Math.floor(Date.now() / 1000);
  if (
    claims?.iss !== ISSUER ||
    typeof claims.jti !== "string" ||
    typeof claims.exp !== "number" ||
    typeof claims.iat !== "number" ||
    claims.iat > now + CLOCK_TOLERANCE_SECONDS
  ) {
    return answer(2, "token invalid");
  }
  if (claims.exp <= now - CLOCK_TOLERANCE_SECONDS) return answer(3, "token expired");
  if (claims.sub !== userId || claims.name !== userName || claims.tenant_space_id !== tenantSpaceId) {
    return answer(5, "identity does not match the token");
  }

  const reads: Promise<unknown>[] = [env.TOKENS.get(`token:${claims.jti}`, "json")];
  if (kvReads === 2) reads.push(env.TOKENS.get(`revoked-user:${tenantSpaceId}:${userId}`, "json"));
  const [record, userRevocation] = (await Promise.all(reads)) as [
    { state?: string } | null,
    { revokedBefore?: number } | null | undefined,
  ];
  if (record?.state === "revoked") return answer(6, "token revoked or unknown");
  if (userRevocation && claims.iat <= (userRevocation.revokedBefore ?? 0)) {
    return answer(6, "token revoked or unknown");
  }
  return answer(0, "validate success");
}
