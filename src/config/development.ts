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
