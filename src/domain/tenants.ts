import type { Config } from "../config/config";
import { type Refusal, refuse } from "../core/decision";

/**
 * The deployment serves the tenants in TENANT_SPACE_IDS and no other: issuing,
 * validating and revoking for any other is refused (retCode 7), naming the field.
 */
export function unservedTenant(
  config: Pick<Config, "tenantSpaceIds">,
  tenantSpaceId: string,
): Refusal | undefined {
  return config.tenantSpaceIds.has(tenantSpaceId) ? undefined : refuse("tenantNotServed", "tenantSpaceId");
}
