import type { Config } from "../../config/config";
import { type Decision, ok } from "../../core/decision";
import { nowSeconds } from "../../core/time";
import type { CredentialState, TokenOwner } from "../../state/credential-state";
import { unservedTenant } from "../tenants";

/**
 * Ends everything one user holds in one tenant (an employee leaves, an account closes,
 * a device is stolen): every token issued, and every session opened, at or before
 * `revokedBefore` (whole seconds, the current one included) is refused from now on, and
 * so is every identity token from a sign-in before it (src/domain/tokens/issue-token.ts).
 * Whoever calls has already been allowed to (src/access: API key or service binding).
 */
export async function revokeUser(
  config: Config,
  state: CredentialState,
  user: TokenOwner,
  now = nowSeconds(),
): Promise<Decision<number>> {
  return unservedTenant(config, user.tenantSpaceId) ?? ok(await state.revokeUser(user, now));
}
