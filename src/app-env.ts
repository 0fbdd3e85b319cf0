import type { SessionClaims } from "./sessions/session-value";

/** Hono's type parameters for this app: the Worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** 1-based position of the API key the caller presented, in API_KEYS. */
    apiKeyIndex: number;
    /** The caller's web-channel session, set by requireSession. */
    session: SessionClaims;
  };
}
