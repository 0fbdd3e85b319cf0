import type { SessionClaims } from "../domain/sessions/session-value";

/**
 * The state that decides verdicts, behind one interface with two implementations
 * (CONSISTENCY, README "Consistency"): Workers KV (`eventual`, src/state/kv-state.ts) and
 * the TokenLedger Durable Object (`strict`). The domain (src/tokens, src/sessions,
 * src/revocations) asks it for standings and turns them into verdicts, the same way in
 * both modes, so the modes cannot drift apart.
 *
 * Failures of the store throw InfrastructureFailure (src/core/failures.ts): fail closed.
 */
export interface CredentialState {
  /** A fresh token id (in strict mode it names the ledger shard that holds the token). */
  newTokenId(owner: TokenOwner): Promise<string>;
  /**
   * Written before the token is handed out. With `signedInAt` (seconds, a signed-in user's
   * sign-in), nothing is written and "userRevoked" answered when the user has been revoked
   * at or after it.
   */
  recordIssued(token: TokenFacts, signedInAt?: number): Promise<"ok" | "userRevoked">;
  /** Whether a correctly signed token may pass validation now (strict mode counts the use). */
  useToken(token: TokenFacts, now: number): Promise<TokenStanding>;
  /**
   * Idempotent; works for a token whose record is missing or gone. With `scope` (a scoped
   * caller's tenants): "outOfScope", and nothing written, when the token is another
   * tenant's; never does a scoped caller's revocation end, or narrow the end of, another
   * tenant's token. The ledger knows each token's tenant (a token it never recorded is
   * revoked for the scope's tenants only); KV tells it from the id's tenant tag.
   */
  revokeToken(tokenId: string, now: number, scope?: ReadonlySet<string>): Promise<"revoked" | "outOfScope">;
  /** Everything the user holds, issued at or before `now` (seconds), is refused. Returns `revokedBefore`. */
  revokeUser(owner: TokenOwner, now: number): Promise<number>;
  /** The token's use and the session's record, together (strict mode: atomically). */
  openSession(session: SessionClaims, token: TokenFacts, nowMs: number): Promise<TokenStanding>;
  /** Whether a genuine, unexpired session may go on. */
  checkSession(session: SessionClaims, nowMs: number): Promise<SessionStanding>;
  /** Final: no renewal or later request brings it back. */
  endSession(session: SessionClaims, nowMs: number): Promise<void>;
}

export interface TokenOwner {
  readonly tenantSpaceId: string;
  readonly userId: string;
}

/** What a correctly signed token asserts, as the state needs it. Times in seconds. */
export interface TokenFacts extends TokenOwner {
  readonly tokenId: string;
  readonly issuedAt: number;
  readonly expiresAt: number;
  /** A signed-in user's sign-in (the token's `auth_time`), at or before `issuedAt`. */
  readonly signedInAt?: number | undefined;
}

/**
 * The time a user revocation is compared with: the user's sign-in when the token has one,
 * otherwise its issue. Revoked when at or before `revokedBefore`.
 */
export const revocationTimeOf = (token: TokenFacts): number => token.signedInAt ?? token.issuedAt;

export type TokenStanding = "ok" | "unknown" | "revoked" | "userRevoked" | "used";
export type SessionStanding = "ok" | "ended" | "replaced" | "unknown" | "tokenRevoked" | "userRevoked";
