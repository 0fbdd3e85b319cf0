import type { Audit } from "./observability/audit";
import type { SessionClaims } from "./sessions/session-value";

/** Hono's type parameters for this app: the Worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set first by `observe`: this request's id, returned as X-Request-Id. */
    requestId: string;
    /** What the request decided, noted as it goes and logged at the end. */
    audit: Audit;
    /** 1-based position of the API key the caller presented, in API_KEYS. */
    apiKeyIndex: number;
    /** The caller's web-channel session, set by requireSession. */
    session: SessionClaims;
  };
}
