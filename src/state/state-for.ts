import type { Config } from "../config/config";
import type { CredentialState } from "./credential-state";
import { KvState } from "./kv/kv-state";

/** The state that decides verdicts for this deployment's CONSISTENCY (eventual: Workers KV). */
export function credentialState(config: Config, env: Env): CredentialState {
  return new KvState(env.TOKENS, config);
}
