/**
 * Every outcome the service can answer, in one table: its `retCode` and message (the
 * public contract, shown in the README), its HTTP status on each surface, and the
 * headers it carries. `src/http/answer.ts` is the one function that turns a row into a
 * response; nothing else decides a status.
 *
 * CEC reads `retCode` (0 = success). We start from Huawei's own token-check convention
 * (0 success, 1 empty, 2 invalid, 3 expired, 4 system error) and extend it.
 *
 * Surfaces: `validate` is CEC's call, where a verdict about the token is a successful
 * answer (HTTP 200, the verdict in `retCode`, as Huawei's contract has it); `api` is
 * everything else (`/v1/*`), where a refusal has the HTTP status that says what it is.
 */

/** The same status on both surfaces. */
const both = (status: number) => ({ validate: status, api: status }) as const;
/** A verdict about the token: 200 to CEC, `api` on the other routes. */
const verdict = (api: number) => ({ validate: 200, api }) as const;

const MALFORMED = "malformed request";
const SYSTEM_ERROR = "system error";

export const OUTCOMES = {
  ok: { retCode: 0, message: "validate success", status: both(200) },
  malformedRequest: { retCode: 1, message: MALFORMED, status: both(400) },
  /** Refused before it is read in full. */
  bodyTooLarge: { retCode: 1, message: MALFORMED, status: both(413) },
  unsupportedMediaType: { retCode: 1, message: MALFORMED, status: both(415) },
  /** A session route with no `ccmessaging-token` cookie or header. */
  credentialMissing: { retCode: 1, message: MALFORMED, status: both(401) },
  tokenInvalid: { retCode: 2, message: "token invalid", status: verdict(401) },
  tokenExpired: { retCode: 3, message: "token expired", status: verdict(401) },
  /** Known-transient: storage failed or was slower than its deadline. Retry soon. */
  serviceUnavailable: {
    retCode: 4,
    message: `${SYSTEM_ERROR}: service temporarily unavailable, retry later`,
    status: both(503),
    retryAfterSeconds: 1,
  },
  /** A bug: it fails every time, so no Retry-After invites CEC to repeat it. */
  internalError: { retCode: 4, message: `${SYSTEM_ERROR}: internal error`, status: both(500) },
  identityMismatch: { retCode: 5, message: "identity does not match the token", status: verdict(401) },
  tokenRevoked: { retCode: 6, message: "token revoked or unknown", status: verdict(401) },
  tenantNotServed: {
    retCode: 7,
    message: "tenant space not served by this deployment",
    status: verdict(403),
  },
  rateLimited: {
    retCode: 8,
    message: "rate limited, retry later",
    status: both(429),
    retryAfterSeconds: 60,
  },
  unauthorized: {
    retCode: 9,
    message: "missing or invalid API key",
    status: both(401),
    challenge: 'Bearer realm="cec-edge-token"',
  },
  notFound: { retCode: 10, message: "not found", status: both(404) },
  /** Only a new deployment fixes it; Retry-After keeps a polite client from hammering. */
  misconfigured: {
    retCode: 11,
    message: "service misconfigured",
    status: both(503),
    retryAfterSeconds: 60,
  },
  identityInvalid: { retCode: 12, message: "identity token invalid", status: both(401) },
  identityProviderUnavailable: {
    retCode: 13,
    message: "identity provider unavailable, retry later",
    status: both(503),
    retryAfterSeconds: 5,
  },
  notPermitted: { retCode: 14, message: "not permitted for this identity", status: both(403) },
  originNotAllowed: { retCode: 15, message: "origin not allowed", status: both(403) },
  httpsRequired: { retCode: 16, message: "HTTPS required", status: both(403) },
  /** CONSISTENCY=strict with TOKEN_MAX_USES: the token has passed validation that many times. */
  tokenAlreadyUsed: { retCode: 17, message: "token already used", status: verdict(401) },
  /** An identity token from before the user's revocation (POST /v1/revocations): only a new sign-in helps. */
  identityRevoked: { retCode: 18, message: "sign in again", status: both(401) },
  /** CHANNEL_IDS is set and the session's channel is not in it. */
  channelNotAllowed: { retCode: 19, message: "channel not allowed", status: both(403) },
} as const satisfies Record<string, OutcomeRow>;

export interface OutcomeRow {
  readonly retCode: number;
  readonly message: string;
  readonly status: { readonly validate: number; readonly api: number };
  readonly retryAfterSeconds?: number;
  /** `WWW-Authenticate` challenge. */
  readonly challenge?: string;
}

export type Outcome = keyof typeof OUTCOMES;
export type RetCode = (typeof OUTCOMES)[Outcome]["retCode"];
export type Surface = keyof OutcomeRow["status"];

/** The JSON body of every answer that carries a `retCode`. */
export interface RetCodeBody {
  retCode: RetCode;
  message: string;
}

/** `detail` names a field or variable, never a submitted value or a secret. */
export function retCodeBody(outcome: Outcome, detail?: string): RetCodeBody {
  const { retCode, message } = OUTCOMES[outcome];
  return { retCode, message: detail ? `${message}: ${detail}` : message };
}
