import type { VerifiedIdentity } from "./identity/verify-identity";
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
    /** Who is asking for tokens: a backend by API key, or a signed-in user by identity token. */
    caller: Caller;
    /** The caller's web-channel session, set by requireSession. */
    session: SessionClaims;
  };
}

export type Caller =
  | { readonly kind: "apiKey" /** 1-based position in API_KEYS. */; readonly index: number }
  | { readonly kind: "identity"; readonly identity: VerifiedIdentity };
