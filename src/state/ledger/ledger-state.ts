import type { Config } from "../../config/config";
import { RECORD_EXPIRY_MARGIN_SECONDS } from "../../core/constants";
import { seconds } from "../../core/time";
import type { SessionClaims } from "../../domain/sessions/session-value";
import type {
  CredentialState,
  SessionStanding,
  TokenFacts,
  TokenOwner,
  TokenStanding,
} from "../credential-state";
import { sessionIdHashOf, sessionRefOf, tokenRefOf } from "../keys";
import { type LedgerClient, newTokenId, revocationKeepUntil } from "./ledger-client";

const ledgerUser = (owner: TokenOwner) => ({ tenant: owner.tenantSpaceId, user: owner.userId });

/**
 * CONSISTENCY=strict: the state in the TokenLedger Durable Object, and nowhere else
 * (docs/consistency.md). Every decision is one call to the object that holds the user,
 * linearizable: the very next request anywhere sees it. A missing record is final (no
 * propagation grace), and TOKEN_MAX_USES is counted.
 */
export class LedgerState implements CredentialState {
  constructor(
    private readonly ledger: LedgerClient,
    private readonly config: Config,
  ) {}

  async newTokenId(owner: TokenOwner): Promise<string> {
    return newTokenId(await this.ledger.shardOf(ledgerUser(owner)));
  }

  async recordIssued(token: TokenFacts, signedInAt?: number): Promise<"ok" | "userRevoked"> {
    return this.ledger.recordIssued({
      ...(await this.ledgerToken(token)),
      keepUntil: token.expiresAt + this.config.clockToleranceSeconds + RECORD_EXPIRY_MARGIN_SECONDS,
      ...(signedInAt !== undefined && { signedInAt }),
    });
  }

  async useToken(token: TokenFacts, now: number): Promise<TokenStanding> {
    return this.ledger.useToken(await this.ledgerToken(token), this.useOptions(now));
  }

  revokeToken(tokenId: string, now: number, scope?: ReadonlySet<string>): Promise<"revoked" | "outOfScope"> {
    return this.ledger.revokeToken(tokenId, {
      now,
      keepUntil: revocationKeepUntil(now),
      ...(scope !== undefined && { scope: [...scope].sort() }),
    });
  }

  revokeUser(owner: TokenOwner, now: number): Promise<number> {
    return this.ledger.revokeUser(ledgerUser(owner), { now, keepUntil: revocationKeepUntil(now) });
  }

  async openSession(session: SessionClaims, token: TokenFacts, nowMs: number): Promise<TokenStanding> {
    const hardEnd = session.createTime + this.config.session.maxLifetimeSeconds * 1000;
    return this.ledger.openSession(
      {
        key: await sessionRefOf(session),
        sid: await sessionIdHashOf(session.sessionId),
        ...ledgerUser(token),
        keepUntil: seconds(hardEnd) + this.config.clockToleranceSeconds + RECORD_EXPIRY_MARGIN_SECONDS,
      },
      await this.ledgerToken(token),
      this.useOptions(seconds(nowMs)),
    );
  }

  async checkSession(session: SessionClaims): Promise<SessionStanding> {
    return this.ledger.checkSession({
      key: await sessionRefOf(session),
      sid: await sessionIdHashOf(session.sessionId),
      tokenRef: session.tokenRef,
      tenant: session.tenantId,
      user: session.userId,
      createTime: session.createTime,
    });
  }

  async endSession(session: SessionClaims, nowMs: number): Promise<void> {
    await this.ledger.endSession({
      key: await sessionRefOf(session),
      sid: await sessionIdHashOf(session.sessionId),
      now: nowMs,
      tenant: session.tenantId,
      user: session.userId,
      tokenRef: session.tokenRef,
      keepUntil: revocationKeepUntil(seconds(nowMs)),
    });
  }

  private async ledgerToken(token: TokenFacts) {
    return { ref: await tokenRefOf(token.tokenId), ...ledgerUser(token), issuedAt: token.issuedAt };
  }

  private useOptions(now: number) {
    return { maxUses: this.config.consistency.tokenMaxUses, now };
  }
}
