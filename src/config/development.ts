import type { ApiKeyEntry } from "../crypto/api-keys";
import { decodeBase64url } from "../crypto/encoding";
import { parseSigningKeys, type RawSigningKey } from "../crypto/signing-keys";
import { developmentIssuer } from "../identity/development-idp";
import type { IdentityIssuer } from "../identity/issuers";
import { csv, type Environment } from "./variables";

/**
 * DEVELOPMENT-ONLY secrets, committed on purpose so that `npm run dev` works on a
 * fresh clone with no manual step. They are used only when ENVIRONMENT=development
 * and the variable is unset; a deployment (production or staging) that carries
 * any of them refuses to serve and names the variable.
 */
export const DEVELOPMENT_KID_PREFIX = "development-only";

export const DEVELOPMENT_DEFAULTS = {
  // base64url of "DEVELOPMENT-ONLY signing key: never use in production"
  SIGNING_KEYS: `${DEVELOPMENT_KID_PREFIX}:REVWRUxPUE1FTlQtT05MWSBzaWduaW5nIGtleTogbmV2ZXIgdXNlIGluIHByb2R1Y3Rpb24`,
  API_KEYS: "development-only-api-key-never-use-in-production",
  // The tenant space id of Huawei's documented example request.
  TENANT_SPACE_IDS: "202007159031",
} as const;

const DEVELOPMENT_SIGNING_SECRET = DEVELOPMENT_DEFAULTS.SIGNING_KEYS.slice(DEVELOPMENT_KID_PREFIX.length + 1);

/**
 * Whether the keys include the committed development signing key, recognised by what it
 * signs whatever `kid` it is listed under (and by its `kid` too): the secret is public,
 * so anyone could forge tokens with it. HMAC pads a key of up to one block (64 bytes)
 * with zero bytes, so the secret followed by zeros signs exactly as the secret does:
 * such keys are compared with their trailing zeros removed. A longer key is hashed
 * first, and no key we could be handed hashes to the development secret.
 */
export function holdsDevelopmentSigningKey(keys: readonly RawSigningKey[]): boolean {
  const secret = decodeBase64url(DEVELOPMENT_SIGNING_SECRET);
  if (!secret) return true;
  const development = withoutTrailingZeros(secret);
  return keys.some(
    (key) =>
      key.kid.startsWith(DEVELOPMENT_KID_PREFIX) ||
      (key.secret.byteLength <= HMAC_BLOCK_BYTES && sameBytes(withoutTrailingZeros(key.secret), development)),
  );
}

/** SHA-256's block: HMAC zero-pads keys up to this length and hashes longer ones. */
const HMAC_BLOCK_BYTES = 64;

function withoutTrailingZeros(bytes: Uint8Array): Uint8Array {
  let end = bytes.byteLength;
  while (end > 0 && bytes[end - 1] === 0) end -= 1;
  return bytes.subarray(0, end);
}

const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);

/** Whether the API keys include the committed development one, named or not. */
export function holdsDevelopmentApiKey(apiKeys: readonly ApiKeyEntry[]): boolean {
  return apiKeys.some(({ key }) => key === DEVELOPMENT_DEFAULTS.API_KEYS);
}

/** The committed value a development deployment uses for a required setting left unset. */
export function developmentFallback(name: "TENANT_SPACE_IDS" | "API_KEYS" | "SIGNING_KEYS") {
  if (name === "SIGNING_KEYS") {
    return parseSigningKeys(DEVELOPMENT_DEFAULTS.SIGNING_KEYS) as [RawSigningKey, ...RawSigningKey[]];
  }
  if (name === "API_KEYS") return [{ name: undefined, key: DEVELOPMENT_DEFAULTS.API_KEYS }];
  return csv(DEVELOPMENT_DEFAULTS[name]);
}

/** In development, the built-in identity provider (/dev/idp) is one more issuer. */
export function withDevelopmentIssuer(
  environment: Environment,
  issuers: readonly IdentityIssuer[],
  servedTenants: ReadonlySet<string>,
): readonly IdentityIssuer[] {
  return environment === "development" ? [...issuers, developmentIssuer(servedTenants)] : issuers;
}
