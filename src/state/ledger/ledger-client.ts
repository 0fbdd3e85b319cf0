import { base64url } from "jose";
import type { ConsistencyConfig } from "../../config/config";
import {
  RECORD_EXPIRY_MARGIN_SECONDS,
  REVOCATION_HORIZON_SECONDS,
  TOKEN_ID_BYTES,
} from "../../core/constants";
import { InfrastructureFailure, withDeadline } from "../../core/failures";
import { decodeBase64url, sha256 } from "../../crypto/encoding";
import { tokenRefOf } from "../../domain/tokens/token";
import type {
  EndedSession,
  IssuedToken,
  LedgerToken,
  LedgerUser,
  OpenedSession,
  PresentedSession,
  RevokeOptions,
  SessionCheck,
  TokenUse,
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
 * A ledger call that has not answered by then fails closed (retCode 4). A call is one
 * round trip to the object's location plus a few SQL statements: under 200 ms from
 * anywhere on Earth (docs/consistency.md), so 2 s means the object is overloaded or
 * unreachable, and CEC's own call is still answered well inside its timeout. The same
 * bound as KV's.
 */
export const LEDGER_DEADLINE_MS = 2_000;

/** A ledger failure: answered as retCode 4 / HTTP 503 with Retry-After (src/core/failures.ts). */
export class LedgerFailure extends InfrastructureFailure {
  constructor(operation: string, failure: string) {
    super("serviceUnavailable", operation, failure, "ledger_failure");
    this.name = "LedgerFailure";
  }
}

/**
 * What went wrong, in words fit for a log: Durable Object errors say whether the object
 * was overloaded or the failure was transient; their messages are not repeated.
 */
function describeFailure(error: unknown): string {
  if (typeof error !== "object" || error === null) return "failed";
  const flags = error as { overloaded?: unknown; retryable?: unknown };
  if (flags.overloaded === true) return "overloaded";
  if (flags.retryable === true) return "unreachable (retryable)";
  return "failed";
}

/**
 * Every ledger call goes through here: a call that throws, or has not answered within
 * LEDGER_DEADLINE_MS, becomes the service-unavailable answer, never a verdict. A call
 * that times out may still complete in the object (a use counted for a 503): failing
 * closed costs that use, never a refusal turned into a success.
 */
export function withLedgerDeadline<T>(operation: string, call: () => Promise<T>): Promise<T> {
  return withDeadline(
    LEDGER_DEADLINE_MS,
    call,
    (failure) => new LedgerFailure(operation, failure),
    describeFailure,
  );
}

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
}

/**
 * The ledger as the domain functions use it: each method finds the shard, calls the
 * object under the deadline, and returns the object's answer or throws LedgerFailure.
 */
export class LedgerClient {
  constructor(
    private readonly namespace: LedgerNamespace,
    private readonly placement: LedgerPlacement,
  ) {}

  static fromConfig(namespace: LedgerNamespace, consistency: ConsistencyConfig): LedgerClient {
    return new LedgerClient(namespace, { locationHint: consistency.ledgerLocationHint });
  }

  /** The user's shard, to make the id of a token issued to them (newTokenId). */
  shardOf(user: LedgerUser): Promise<number> {
    return userShard(user);
  }

  recordIssued(token: IssuedToken): Promise<"ok" | "userRevoked"> {
    return this.call("record issued token", token, (ledger) => ledger.recordIssued(token));
  }

  useToken(token: LedgerToken, options: UseOptions): Promise<TokenUse> {
    return this.call("use token", token, (ledger) => ledger.useToken(token, options));
  }

  /** Revokes by token id: the id names the shard. What is not a token id names none: nothing to do. */
  async revokeToken(tokenId: string, options: RevokeOptions): Promise<void> {
    const shard = shardOfTokenId(tokenId);
    if (shard === undefined) return;
    const ref = await tokenRefOf(tokenId);
    await withLedgerDeadline("revoke token", () => this.stub(shard).revokeToken(ref, options));
  }

  revokeUser(user: LedgerUser, options: RevokeOptions): Promise<number> {
    return this.call("revoke user", user, (ledger) => ledger.revokeUser(user, options));
  }

  openSession(session: OpenedSession, token: LedgerToken, options: UseOptions): Promise<TokenUse> {
    return this.call("open session", session, (ledger) => ledger.openSession(session, token, options));
  }

  checkSession(session: PresentedSession): Promise<SessionCheck> {
    return this.call("check session", session, (ledger) => ledger.checkSession(session));
  }

  endSession(session: EndedSession & LedgerUser): Promise<void> {
    const { key, sid, now } = session;
    return this.call("end session", session, (ledger) => ledger.endSession({ key, sid, now }));
  }

  private call<T>(
    operation: string,
    user: LedgerUser,
    method: (ledger: DurableObjectStub<TokenLedger>) => Promise<T>,
  ): Promise<T> {
    return withLedgerDeadline(operation, async () => method(this.stub(await this.shardOf(user))));
  }

  private stub(shard: number): DurableObjectStub<TokenLedger> {
    const id = this.namespace.idFromName(`shard-${shard}`);
    const { locationHint } = this.placement;
    return this.namespace.get(id, locationHint === undefined ? undefined : { locationHint });
  }
}
