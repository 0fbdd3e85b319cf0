import type { SecurityEventKind } from "./observability/security-events";

/**
 * The `retCode` table: public contract, shown in the README. CEC reads `retCode`
 * (0 = success); we start from Huawei's own token-check convention
 * (0 success, 1 empty, 2 invalid, 3 expired, 4 system error) and extend it.
 *
 * `status` is the HTTP status of the answer. A `verdict` is an answer about the
 * token rather than a failure of the call, so the validate endpoint sends it with
 * HTTP 200 and lets CEC read the verdict from the body, as the vendor's demo does.
 */
export const RET_CODES = {
  ok: { retCode: 0, status: 200, verdict: true, message: "validate success" },
  malformedRequest: { retCode: 1, status: 400, verdict: false, message: "malformed request" },
  tokenInvalid: { retCode: 2, status: 401, verdict: true, message: "token invalid" },
  tokenExpired: { retCode: 3, status: 401, verdict: true, message: "token expired" },
  serviceUnavailable: {
    retCode: 4,
    status: 503,
    verdict: false,
    message: "system error: service temporarily unavailable, retry later",
  },
  identityMismatch: {
    retCode: 5,
    status: 401,
    verdict: true,
    message: "identity does not match the token",
  },
  tokenRevoked: { retCode: 6, status: 401, verdict: true, message: "token revoked or unknown" },
  tenantNotServed: {
    retCode: 7,
    status: 403,
    verdict: true,
    message: "tenant space not served by this deployment",
  },
  rateLimited: { retCode: 8, status: 429, verdict: false, message: "rate limited, retry later" },
  unauthorized: { retCode: 9, status: 401, verdict: false, message: "missing or invalid API key" },
  notFound: { retCode: 10, status: 404, verdict: false, message: "not found" },
  misconfigured: {
    retCode: 11,
    status: 503,
    verdict: false,
    message: "service misconfigured",
  },
  identityInvalid: { retCode: 12, status: 401, verdict: false, message: "identity token invalid" },
  identityProviderUnavailable: {
    retCode: 13,
    status: 503,
    verdict: false,
    message: "identity provider unavailable, retry later",
  },
  notPermitted: { retCode: 14, status: 403, verdict: false, message: "not permitted for this identity" },
  originNotAllowed: { retCode: 15, status: 403, verdict: false, message: "origin not allowed" },
  httpsRequired: { retCode: 16, status: 403, verdict: false, message: "HTTPS required" },
} as const;

export type Outcome = keyof typeof RET_CODES;
export type RetCode = (typeof RET_CODES)[Outcome]["retCode"];

/** The JSON body of every answer that carries a `retCode`. */
export interface RetCodeBody {
  retCode: RetCode;
  message: string;
}

/**
 * A failure with its place in the table. `detail` is appended to the message and
 * must never hold a secret or a submitted value: name fields and variables only.
 */
export class ServiceError extends Error {
  readonly detail: string | undefined;
  /** Overrides the table's status where HTTP has a more precise one (401 for no session, 413, 415). */
  readonly status: number | undefined;
  /** For the log only: the rate limiter that refused the request. */
  readonly limiter: string | undefined;
  /** For the log only: the security event this refusal is, decided by the code that refused. */
  readonly securityEvent: SecurityEventKind | undefined;

  constructor(
    readonly outcome: Exclude<Outcome, "ok">,
    detail?: string,
    options: { status?: number; limiter?: string; securityEvent?: SecurityEventKind } = {},
  ) {
    super(detail ? `${RET_CODES[outcome].message}: ${detail}` : RET_CODES[outcome].message);
    this.name = "ServiceError";
    this.detail = detail;
    this.status = options.status;
    this.limiter = options.limiter;
    this.securityEvent = options.securityEvent;
  }
}

export function retCodeBody(outcome: Outcome, detail?: string): RetCodeBody {
  const { retCode, message } = RET_CODES[outcome];
  return { retCode, message: detail ? `${message}: ${detail}` : message };
}
