import { base64url } from "jose";
import type { Config } from "../../config/config";
import {
  RECORD_EXPIRY_MARGIN_SECONDS,
  REVOCATION_HORIZON_SECONDS,
  TOKEN_ID_BYTES,
} from "../../core/constants";
import { withDeadline } from "../../core/failures";
import { decodeBase64url, sha256 } from "../../crypto/encoding";
import { tokenRefOf } from "../keys";
import type {
  EndedSession,
  IssuedToken,
  LedgerToken,
  LedgerUser,
  OpenedSession,
  PresentedSession,
  RevokeOptions,
  SessionStanding,
  TokenStanding,
  UseOptions,
} from "./ledger-types";
import type { TokenLedger } from "./token-ledger";

/**
 * How the Worker reaches the ledger (docs/consistency.md). Objects are named by shard,
 * `shard-<n>`; a user's shard is a hash of (tenant, user id) over LEDGER_SHARDS, so
 * everything of one user (tokens, sessions, revocation) lives in one object and a
 * session open is one transaction. A token id carries its shard in its first byte
 * (newTokenId), so `DELETE /v1/tokens/{tokenId}` finds the object from the id alone.
 */

/**
 * Always 256 shards, one object each: a fixed number, because a shard count that could
 * change would move users to objects that never heard of their revocations, and a token
 * id's one byte names its shard. 256 objects at 500 calls a second each is 128,000 calls
 * a second (docs/consistency.md, "Throughput"); an object that is never called costs nothing.
 */
export const LEDGER_SHARDS = 256;

/** The user's shard: the first byte of SHA-256(JSON [tenant, user]). */
export async function userShard(user: LedgerUser): Promise<number> {
  const digest = new Uint8Array(await sha256(JSON.stringify([user.tenant, user.user])));
  return (digest[0] ?? 0) % LEDGER_SHARDS;
}

/** A new token id for a user of `shard`: 16 random bytes, the first replaced by the shard (base64url, 22 characters). */
export function newTokenId(shard: number): string {
  if (!Number.isInteger(shard) || shard < 0 || shard >= LEDGER_SHARDS) {
    throw new RangeError(`shard must be a whole number below ${LEDGER_SHARDS}`);
  }
  const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_ID_BYTES));
  bytes[0] = shard;
  return base64url.encode(bytes);
}

/** The shard a token id names (its first byte), or undefined for what is not a token id. */
export function shardOfTokenId(tokenId: string): number | undefined {
  const bytes = decodeBase64url(tokenId);
  return bytes?.byteLength === TOKEN_ID_BYTES ? bytes[0] : undefined;
}

/** How long a revocation row is kept (seconds): past anything it can refuse, as KV's tombstones. */
export function revocationKeepUntil(now: number): number {
  return now + REVOCATION_HORIZON_SECONDS + RECORD_EXPIRY_MARGIN_SECONDS;
}

/** The binding, or anything that hands out its stubs (the tests wrap the real one to inject faults). */
export type LedgerNamespace = Pick<DurableObjectNamespace<TokenLedger>, "idFromName" | "get">;

export interface LedgerPlacement {
  /** LEDGER_LOCATION_HINT: honoured when an object is first created, ignored after. */
  readonly locationHint: DurableObjectLocationHint | undefined;
  /** STORE_DEADLINE_MS: a call not answered by then fails closed (Unavailable, 503). */
  readonly deadlineMs: number;
}

/**
 * The ledger as the state uses it: each method finds the shard, calls the object under
 * the store deadline, and returns the object's answer. A call that times out, or that
 * the runtime marks transient (overloaded, retryable), is Unavailable: 503, never a
 * verdict. A call that times out may still complete in the object (a use counted for a
 * 503): failing closed costs that use, never a refusal turned into a success.
 */
export class LedgerClient {
  constructor(
    private readonly namespace: LedgerNamespace,
    private readonly placement: LedgerPlacement,
  ) {}

  static fromConfig(namespace: LedgerNamespace, config: Config): LedgerClient {
    return new LedgerClient(namespace, {
      locationHint: config.consistency.ledgerLocationHint,
      deadlineMs: config.storeDeadlineMs,
    });
  }

  /** The user's shard, to make the id of a token issued to them (newTokenId). */
  shardOf(user: LedgerUser): Promise<number> {
    return userShard(user);
  }

  recordIssued(token: IssuedToken): Promise<"ok" | "userRevoked"> {
    return this.call("record issued token", token, (ledger) => ledger.recordIssued(token));
  }

  useToken(token: LedgerToken, options: UseOptions): Promise<TokenStanding> {
    return this.call("use token", token, (ledger) => ledger.useToken(token, options));
  }

  /** Revokes by token id: the id names the shard. What is not a token id names none: nothing to do. */
  async revokeToken(tokenId: string, options: RevokeOptions): Promise<"revoked" | "outOfScope"> {
    const shard = shardOfTokenId(tokenId);
    if (shard === undefined) return "revoked";
    const ref = await tokenRefOf(tokenId);
    return withDeadline(this.placement.deadlineMs, "ledger", "revoke token", () =>
      this.stub(shard).revokeToken(ref, options),
    );
  }

  revokeUser(user: LedgerUser, options: RevokeOptions): Promise<number> {
    return this.call("revoke user", user, (ledger) => ledger.revokeUser(user, options));
  }

  openSession(session: OpenedSession, token: LedgerToken, options: UseOptions): Promise<TokenStanding> {
    return this.call("open session", session, (ledger) => ledger.openSession(session, token, options));
  }

  checkSession(session: PresentedSession): Promise<SessionStanding> {
    return this.call("check session", session, (ledger) => ledger.checkSession(session));
  }

  endSession(session: EndedSession & LedgerUser): Promise<void> {
    const { key, sid, now, tokenRef, keepUntil } = session;
    return this.call("end session", session, (ledger) =>
      ledger.endSession({ key, sid, now, tokenRef, keepUntil }),
    );
  }

  private call<T>(
    operation: string,
    user: LedgerUser,
    method: (ledger: DurableObjectStub<TokenLedger>) => Promise<T>,
  ): Promise<T> {
    return withDeadline(this.placement.deadlineMs, "ledger", operation, async () =>
      method(this.stub(await this.shardOf(user))),
    );
  }

  private stub(shard: number): DurableObjectStub<TokenLedger> {
    const id = this.namespace.idFromName(`shard-${shard}`);
    const { locationHint } = this.placement;
    return this.namespace.get(id, locationHint === undefined ? undefined : { locationHint });
  }
}
