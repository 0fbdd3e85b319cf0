import type { Config } from "../config/config";
import type { CredentialState } from "./credential-state";
import { KvState } from "./kv/kv-state";
import { LedgerClient } from "./ledger/ledger-client";
import { LedgerState } from "./ledger/ledger-state";

/**
 * The state that decides verdicts for this deployment's CONSISTENCY: Workers KV
 * (eventual) or the TokenLedger Durable Object (strict).
 *
 * Ends (a token revoked, a user revoked, a session ended) are written to both stores,
 * whichever decides: they are rare, and it makes switching CONSISTENCY safe both ways and
 * any number of times. Nothing either mode has ended can be accepted by the other
 * (docs/consistency.md, "Switching modes").
 */
export function credentialState(config: Config, env: Env): CredentialState {
  // Built once per `env` (one per isolate, as its configuration is), not per request.
  let state = states.get(env);
  if (!state) {
    const kv = new KvState(env.TOKENS, config);
    const ledger = new LedgerState(LedgerClient.fromConfig(env.LEDGER, config.consistency), config);
    const [deciding, mirror] = config.consistency.mode === "strict" ? [ledger, kv] : [kv, ledger];
    state = withEndsMirrored(deciding, mirror);
    states.set(env, state);
  }
  return state;
}

const states = new WeakMap<object, CredentialState>();

function withEndsMirrored(deciding: CredentialState, mirror: CredentialState): CredentialState {
  return {
    newTokenId: (owner) => deciding.newTokenId(owner),
    recordIssued: (token, signedInAt) => deciding.recordIssued(token, signedInAt),
    useToken: (token, now) => deciding.useToken(token, now),
    openSession: (session, token, nowMs) => deciding.openSession(session, token, nowMs),
    checkSession: (session, nowMs) => deciding.checkSession(session, nowMs),
    revokeToken: (tokenId, now) => both(deciding.revokeToken(tokenId, now), mirror.revokeToken(tokenId, now)),
    revokeUser: (owner, now) => both(deciding.revokeUser(owner, now), mirror.revokeUser(owner, now)),
    endSession: (session, nowMs) =>
      both(deciding.endSession(session, nowMs), mirror.endSession(session, nowMs)),
  };
}

/**
 * Both writes, each run to its end before the answer (a failure of one never cuts the
 * other short); then the first failure, if any, fails the request closed (503): a retry
 * is harmless, every end is idempotent. The deciding store's result is returned.
 */
async function both<T>(deciding: Promise<T>, mirror: Promise<unknown>): Promise<T> {
  const [decided, mirrored] = await Promise.allSettled([deciding, mirror]);
  if (decided.status === "rejected") throw decided.reason;
  if (mirrored.status === "rejected") throw mirrored.reason;
  return decided.value;
}
