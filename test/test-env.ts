/**
 * The secrets the tests run with, given to the Worker as bindings by vitest.config.ts
 * and imported by the tests that need to present them. Test-only values.
 */
export const TEST_SIGNING_KEY_CURRENT = {
  kid: "test-2026-b",
  // 32 bytes of 0x01, base64url
  secret: "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE",
};
export const TEST_SIGNING_KEY_OLDER = {
  kid: "test-2026-a",
  // 32 bytes of 0x02, base64url
  secret: "AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI",
};
export const TEST_API_KEY = "test-api-key-0123456789abcdef";
export const TEST_API_KEY_SECOND = "test-api-key-second-backend-xyz";
export const TEST_TENANT = "202007159031";
export const TEST_TENANT_OTHER = "202107150001";
export const UNSERVED_TENANT = "999999999999";

export const TEST_BINDINGS = {
  ENVIRONMENT: "test",
  SIGNING_KEYS: [TEST_SIGNING_KEY_CURRENT, TEST_SIGNING_KEY_OLDER]
    .map((k) => `${k.kid}:${k.secret}`)
    .join(","),
  API_KEYS: `${TEST_API_KEY},${TEST_API_KEY_SECOND}`,
  TENANT_SPACE_IDS: `${TEST_TENANT},${TEST_TENANT_OTHER}`,
  TOKEN_TTL_SECONDS: "300",
  CLOCK_TOLERANCE_SECONDS: "5",
} as const;
