import type { Audit } from "../observability/audit";

/** What an RPC call decided, noted as it goes (the HTTP side keeps it in `c.var.audit`). */
export type CallAudit = Audit;

export function decided(audit: CallAudit, fields: Audit) {
  Object.assign(audit, fields);
}
