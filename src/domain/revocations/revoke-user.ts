import type { Config } from "../../config/config";
import type { Refusal } from "../../core/decision";
import type { CredentialState, TokenOwner } from "../../state/credential-state";
import { unservedTenant } from "../tenants";

/**
 * Ends everything one user holds in one tenant (an employee leaves, an account closes,
 * a device is stolen): every token issued, and every session opened, at or before
 * `revokedBefore` (whole seconds, the current one included) is refused from now on.
 * Whoever calls has already been allowed to (src/access: API key only).
 */
export async function revokeUser(
  config: Config,
  state: CredentialState,
  user: TokenOwner,
): Promise<{ readonly outcome: "ok"; readonly revokedBefore: number } | Refusal> {
  const now = Math.floor(Date.now() / 1000);
  return (
    unservedTenant(config, user.tenantSpaceId) ?? {
      outcome: "ok",
      revokedBefore: await state.revokeUser(user, now),
    }
  );
}
