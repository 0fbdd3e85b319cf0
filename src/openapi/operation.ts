import type * as z from "zod/mini";
import type { Outcome, Surface } from "../core/outcomes";

export type Security = "apiKey" | "apiKeyOrIdentity" | "session" | "none";

/**
 * A route's contract, declared in its route module beside its handler; the OpenAPI
 * document (src/openapi/document.ts) is assembled from these and nothing else, and a test
 * checks each against what the route really answers (test/contracts.test.ts).
 */
export interface Operation {
  readonly method: "get" | "post" | "delete";
  /** OpenAPI form: `/v1/tokens/{tokenId}`. */
  readonly path: string;
  readonly summary: string;
  readonly description?: string;
  readonly security: Security;
  /** Which statuses its verdicts take (src/core/outcomes.ts); `api` when not said. */
  readonly surface?: Surface;
  readonly body?: z.ZodMiniType;
  /** Path parameters and their schemas. */
  readonly parameters?: Readonly<Record<string, z.ZodMiniType>>;
  /** The answers that are not refusals: status → what it is, its body, its headers. */
  readonly success: Readonly<Record<number, SuccessAnswer>>;
  /** Every refusal the route itself can answer; statuses and messages come from the outcome table. */
  readonly refusals: readonly Exclude<Outcome, "ok">[];
}

export interface SuccessAnswer {
  readonly description: string;
  readonly schema?: z.ZodMiniType;
  /** Response headers worth documenting: name → what it carries. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Refusals any route can answer whatever it does: a configuration error, a request over
 * plain HTTP in production or staging, and a bug.
 */
export const ANY_ROUTE_REFUSALS = ["misconfigured", "httpsRequired", "internalError"] as const;

/** What a JSON body route can answer before its handler runs (src/http/json-body.ts). */
export const BODY_REFUSALS = ["malformedRequest", "bodyTooLarge", "unsupportedMediaType"] as const;

/** The verdicts about a presented token: the validate call's, and opening a session's. */
export const TOKEN_VERDICTS = [
  "tokenInvalid",
  "tokenExpired",
  "identityMismatch",
  "tokenRevoked",
  "tenantNotServed",
  "tokenAlreadyUsed",
] as const;
