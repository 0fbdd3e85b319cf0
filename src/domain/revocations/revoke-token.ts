import { type Decision, ok } from "../../core/decision";
import { nowSeconds } from "../../core/time";
import type { CredentialState } from "../../state/credential-state";

/**
 * Ends one token: its validations, and every session it opened, are refused from now
 * on. Idempotent, and an id that names no token is ended all the same (its record may
 * not have reached this location yet, or may be long gone): the answer never tells
 * whether a token existed. Whoever calls has already been allowed to (src/access).
 */
export async function revokeToken(
  state: CredentialState,
  tokenId: string,
  now = nowSeconds(),
): Promise<Decision<void>> {
  await state.revokeToken(tokenId, now);
  return ok(undefined);
}
