import { type Decision, ok, refuse } from "../../core/decision";
import { nowSeconds } from "../../core/time";
import type { CredentialState } from "../../state/credential-state";

/**
 * Ends one token: its validations, and every session it opened, are refused from now
 * on. Idempotent, and an id that names no token is ended all the same (its record may
 * not have reached this location yet, or may be long gone): the answer never tells
 * whether a token existed.
 *
 * `scope`: the tenants a scoped caller (API_KEY_SCOPES, a binding's props) may act for.
 * A token the store knows to be another tenant's is refused (403, retCode 7) and keeps
 * validating; one it does not know is ended for the scope's tenants only, so a scoped
 * key can never end another customer's token, whatever id it sends.
 */
export async function revokeToken(
  state: CredentialState,
  tokenId: string,
  scope?: ReadonlySet<string>,
  now = nowSeconds(),
): Promise<Decision<void>> {
  const revoked = await state.revokeToken(tokenId, now, scope);
  if (revoked === "outOfScope")
    return refuse("tenantNotServed", "the token's tenant space is not in this caller's scope");
  return ok(undefined);
}
