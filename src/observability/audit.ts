import type { SecurityEventKind } from "../core/decision";
import type { Outcome } from "../core/outcomes";

/**
 * What a request decided, noted by the code that decided it and read once, by the
 * request log, at the end. Identifiers only: `userId` is pseudonymised before it is
 * logged, and nothing here may hold a credential.
 */
export interface Audit {
  outcome?: Outcome;
  /** The decision in words, as in the answer's message (never a submitted value). */
  reason?: string;
  tenant?: string;
  userId?: string;
  channelId?: string;
  /** The `kid` of the key that signed the token or cookie presented. */
  kid?: string;
  /** Which API key acted: its name in API_KEYS, or its 1-based position when unnamed. Never the key. */
  apiKey?: string | number;
  /** Which service binding called over RPC: its `props.name`, when the consumer set one. */
  binding?: string;
  /** The identity provider that vouched for the caller. */
  identityIssuer?: string;
  /** The rate limiter that refused the request. */
  limiter?: string;
  /** A security event the deciding code marked this request as. */
  securityEvent?: SecurityEventKind;
}

/**
 * Notes what was decided, for the record written at the end: the HTTP routes note into
 * `c.var.audit`, the RPC entrypoint into its call's own.
 */
export function note(audit: Audit, fields: Audit) {
  Object.assign(audit, fields);
}
