import type { Config } from "../config/config";
import type { CredentialState } from "./credential-state";
import { KvState } from "./kv/kv-state";
import { LedgerClient } from "./ledger/ledger-client";
import { LedgerState } from "./ledger/ledger-state";

const states = new WeakMap<object, CredentialState>();

/**
 * The one store that decides for this deployment's CONSISTENCY: Workers KV (eventual) or
 * the TokenLedger Durable Object (strict). Each mode is self-contained: it reads and
 * writes its own store only. What was issued or opened under another mode carries
 * another consistency epoch and is refused before any store is asked (docs/consistency.md,
 * "Switching modes"). The configuration has checked that the mode's binding exists.
 * Built once per `env` (one per isolate, as its configuration is), not per request.
 */
export function credentialState(config: Config, env: Env): CredentialState {
  let state = states.get(env);
  if (!state) {
    state =
      config.consistency.mode === "strict"
        ? new LedgerState(LedgerClient.fromConfig(env.LEDGER, config), config)
        : new KvState(env.TOKENS, config);
    states.set(env, state);
  }
  return state;
}
