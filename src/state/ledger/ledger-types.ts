/**
 * What goes into and out of the TokenLedger's RPC methods: plain objects and strings.
 * Its answers are the state's own standings (src/state/credential-state.ts).
 */
export type { SessionStanding, TokenStanding } from "../credential-state";

/** A token as the ledger knows it: its ref (base64url(SHA-256(tokenId))), owner and `iat`. */
export interface LedgerToken {
  readonly ref: string;
  readonly tenant: string;
  readonly user: string;
  readonly issuedAt: number;
}

export interface IssuedToken extends LedgerToken {
  /** When the row may be removed (seconds): after the token's last valid second. */
  readonly keepUntil: number;
  /** A signed-in user's sign-in (seconds): refused when the user was revoked at or after it. */
  readonly signedInAt?: number;
}

export interface UseOptions {
  /** TOKEN_MAX_USES: null = unlimited. */
  readonly maxUses: number | null;
  /** Seconds. */
  readonly now: number;
}

export interface RevokeOptions {
  /** Seconds. */
  readonly now: number;
  /** Seconds: past anything the revocation refuses. */
  readonly keepUntil: number;
  /**
   * A token revocation by a scoped caller: the tenants it may act for. A token recorded
   * for another tenant is "outOfScope"; one never recorded is revoked for these only.
   */
  readonly scope?: readonly string[];
}

export interface LedgerUser {
  readonly tenant: string;
  readonly user: string;
}

export interface OpenedSession {
  /** The session's ref (src/state/keys.ts): its (tenant, channel, user), hashed. */
  readonly key: string;
  /** base64url(SHA-256(sessionId)): never the session id itself. */
  readonly sid: string;
  readonly tenant: string;
  readonly user: string;
  /** Seconds: after the session's hard end. */
  readonly keepUntil: number;
}

export interface PresentedSession {
  readonly key: string;
  readonly sid: string;
  /** The ref of the token that opened the session (the cookie's `tokenRef`). */
  readonly tokenRef: string;
  readonly tenant: string;
  readonly user: string;
  /** Milliseconds. */
  readonly createTime: number;
}

export interface EndedSession {
  readonly key: string;
  readonly sid: string;
  /** Milliseconds. */
  readonly now: number;
  /** The ref of the token that opened the session: a logout ends it too. */
  readonly tokenRef: string;
  /** Seconds: how long the token's revocation is kept (past anything it refuses). */
  readonly keepUntil: number;
}
