import * as z from "zod/mini";
import type { Config } from "../config/config";
import { MAX_BODY_BYTES } from "../constants";
import { RET_CODES } from "../ret-codes";
import {
  identityIssueTokenRequest,
  issuedTokenAnswer,
  issueTokenRequest,
  openedSessionAnswer,
  openSessionRequest,
  retCodeAnswer,
  revokeUserRequest,
  sessionIdentityAnswer,
  userRevocationAnswer,
  validateRequest,
} from "../schemas";

type Schema = z.ZodMiniType;
type Security = "apiKey" | "apiKeyOrIdentity" | "session" | "none";

interface Operation {
  method: "get" | "post" | "delete";
  path: string;
  summary: string;
  description?: string;
  security: Security;
  body?: Schema;
  /** Status → what it means, and the body schema when there is one. */
  responses: Record<number, [string, Schema?]>;
}

const json = (schema: Schema) => ({
  "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) },
});

const errors = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((status) => [status, [errorMeaning(status), retCodeAnswer] as [string, Schema]]),
  );

function errorMeaning(status: number): string {
  const codes = Object.values(RET_CODES).filter((entry) => entry.status === status && entry.retCode !== 0);
  const extra = status === 400 || status === 413 || status === 415 ? [RET_CODES.malformedRequest] : [];
  return [...new Set([...codes, ...extra])]
    .map((entry) => `retCode ${entry.retCode}: ${entry.message}`)
    .join("; ");
}

/** Every route the Worker serves, declared once with every status it can answer. */
function operations(config: Config): Operation[] {
  return [
    {
      method: "post",
      path: config.validatePath,
      summary: "Validate a token (called by CEC)",
      description:
        "Huawei CEC's token authentication API. Every verdict about the token is HTTP 200 with its retCode; " +
        'retCode 0 with message "validate success" means valid.',
      security: "none",
      body: validateRequest,
      responses: {
        200: ["A verdict: retCode 0 (valid), 2, 3, 5, 6 or 7", retCodeAnswer],
        ...errors(400, 404, 413, 415, 429, 503),
      },
    },
    {
      method: "post",
      path: "/v1/tokens",
      summary: "Issue a token",
      description:
        "With an API key the body names the user. With an identity token from IDENTITY_ISSUERS the user comes " +
        "from its claims; userId and userName may then be omitted (schema IdentityIssueTokenRequest).",
      security: "apiKeyOrIdentity",
      body: z.union([issueTokenRequest, identityIssueTokenRequest]),
      responses: { 201: ["Issued", issuedTokenAnswer], ...errors(400, 401, 403, 413, 415, 429, 503) },
    },
    {
      method: "delete",
      path: "/v1/tokens/{tokenId}",
      summary: "Revoke a token",
      security: "apiKey",
      responses: { 204: ["Revoked (idempotent)"], ...errors(400, 401, 429, 503) },
    },
    {
      method: "post",
      path: "/v1/revocations",
      summary: "Revoke a user: every token and session issued to them until now",
      description:
        "Every token issued to the user in the tenant at or before revokedBefore fails validation (retCode 6), " +
        "and every web-channel session opened at or before it fails verification. A token issued from the next " +
        "second on works normally. Idempotent; a later call moves revokedBefore forward.",
      security: "apiKey",
      body: revokeUserRequest,
      responses: {
        200: ["Revoked", userRevocationAnswer],
        ...errors(400, 401, 403, 413, 415, 429, 503),
      },
    },
    {
      method: "post",
      path: "/v1/web-channel/sessions",
      summary: "Open a web-channel session (sets the ccmessaging-token cookie)",
      security: "none",
      body: openSessionRequest,
      responses: {
        200: ["Opened; Set-Cookie: ccmessaging-token", openedSessionAnswer],
        ...errors(400, 401, 403, 413, 415, 429, 503),
      },
    },
    {
      method: "delete",
      path: "/v1/web-channel/sessions",
      summary: "End the web-channel session (clears the cookie)",
      security: "none",
      responses: { 204: ["Ended, or there was nothing to end"], ...errors(403, 503) },
    },
    {
      method: "get",
      path: "/v1/web-channel/verify",
      summary: "Verify the session (forward auth)",
      description:
        "204 with X-CEC-Tenant-Id, X-CEC-Channel-Id and X-CEC-User-Id headers when valid, each the percent-encoded UTF-8 of the id (RFC 3986: every byte but A-Z a-z 0-9 - . _ ~ as %XX).",
      security: "session",
      responses: { 204: ["Valid"], ...errors(401, 503) },
    },
    {
      method: "get",
      path: "/v1/web-channel/me",
      summary: "The session's identity",
      security: "session",
      responses: { 200: ["The identity", sessionIdentityAnswer], ...errors(401, 503) },
    },
    {
      method: "get",
      path: "/v1/stats",
      summary: "This isolate's counters",
      security: "apiKey",
      responses: { 200: ["Counters since the isolate started"], ...errors(401, 429) },
    },
    {
      method: "get",
      path: "/healthz",
      summary: "Liveness",
      security: "none",
      responses: { 200: ["OK", z.object({ status: z.literal("ok") })] },
    },
  ];
}

const SECURITY: Record<Security, Record<string, string[]>[]> = {
  none: [],
  apiKey: [{ apiKey: [] }],
  apiKeyOrIdentity: [{ apiKey: [] }, { identityToken: [] }, { cloudflareAccess: [] }],
  session: [{ sessionCookie: [] }, { sessionHeader: [] }],
};

function retCodeTable(): string {
  const rows = Object.values(RET_CODES).map(
    (entry) => `| ${entry.retCode} | ${entry.message} | ${entry.status} |`,
  );
  return [
    "| retCode | meaning | HTTP (validate answers verdicts with 200) |",
    "| --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The OpenAPI 3.1 document, built from the zod schemas that validate requests. */
export function openApiDocument(config: Config) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations(config)) {
    const parameters = [...operation.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
      name,
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, unknown>)[operation.method] = {
      summary: operation.summary,
      ...(operation.description && { description: operation.description }),
      security: SECURITY[operation.security],
      ...(parameters.length > 0 && { parameters }),
      ...(operation.body && {
        requestBody: {
          required: true,
          description: `JSON, at most ${MAX_BODY_BYTES} bytes.`,
          content: json(operation.body),
        },
      }),
      responses: Object.fromEntries(
        Object.entries(operation.responses).map(([status, [description, schema]]) => [
          status,
          { description, ...(schema && { content: json(schema) }) },
        ]),
      ),
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "cec-edge-token",
      version: "1.0.0",
      description: `Tokens and web-channel sessions for Huawei Cloud CEC chat authentication.\n\n${retCodeTable()}`,
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: "http", scheme: "bearer", description: "One of API_KEYS." },
        identityToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "From one of IDENTITY_ISSUERS.",
        },
        cloudflareAccess: { type: "apiKey", in: "header", name: "Cf-Access-Jwt-Assertion" },
        sessionCookie: { type: "apiKey", in: "cookie", name: "ccmessaging-token" },
        sessionHeader: { type: "apiKey", in: "header", name: "ccmessaging-token" },
      },
    },
  };
}
