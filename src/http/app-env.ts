import type { Caller } from "../access/callers";
import type { Surface } from "../core/outcomes";
import type { SessionClaims } from "../domain/sessions/session-value";
import type { Audit } from "../observability/audit";

/** Hono's type parameters for this app: the Worker's bindings and what middleware sets. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    /** Set first by `observe`: this request's id, returned as X-Request-Id. */
    requestId: string;
    /** Which statuses verdicts take (src/core/outcomes.ts): `validate` on CEC's call, else unset (`api`). */
    surface: Surface;
    /** What the request decided, noted as it goes and logged at the end. */
    audit: Audit;
    /** Who is calling (src/access/callers.ts), set by requireApiKey or requireIssuer. */
    caller: Caller;
    /** A JSON body not yet checked against a schema, set by readJson. */
    json: unknown;
    /** The caller's web-channel session, set by requireSession. */
    session: SessionClaims;
  };
}
