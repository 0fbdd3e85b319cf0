import * as z from "zod/mini";
import type { Config } from "../config/config";
import { MAX_BODY_BYTES } from "../core/constants";
import { OUTCOMES, type Outcome } from "../core/outcomes";
import { retCodeAnswer } from "../core/schemas";
import { docsOperations } from "../http/routes/docs";
import { healthOperations } from "../http/routes/health";
import { revocationsOperations } from "../http/routes/revocations";
import { statsOperations } from "../http/routes/stats";
import { tokensOperations } from "../http/routes/tokens";
import { validateOperations } from "../http/routes/validate";
import { webChannelOperations } from "../http/routes/web-channel";
import { ANY_ROUTE_REFUSALS, type Operation, type Security } from "./operation";

/** Every documented operation, as its route module declares it. */
export function operations(config: Config): Operation[] {
  return [
    ...validateOperations(config),
    ...tokensOperations,
    ...revocationsOperations,
    ...webChannelOperations,
    ...statsOperations,
    ...docsOperations(config),
    ...healthOperations,
  ];
}

/**
 * The statuses an operation can answer, each with what it means: its success answers,
 * and the statuses of its refusals on its surface (from the outcome table), plus the
 * refusals any route can answer.
 */
export function answersOf(operation: Operation): Map<number, { description: string; retCodes: Outcome[] }> {
  const answers = new Map<number, { description: string; retCodes: Outcome[] }>();
  for (const [status, success] of Object.entries(operation.success)) {
    answers.set(Number(status), { description: success.description, retCodes: [] });
  }
  const surface = operation.surface ?? "api";
  // Over plain HTTP in production or staging a GET is redirected to https; anything else is refused.
  const anyRoute = ANY_ROUTE_REFUSALS.filter(
    (outcome) => operation.method !== "get" || outcome !== "httpsRequired",
  );
  if (operation.method === "get") {
    answers.set(301, {
      description: "Plain HTTP in production or staging: the same URL over https",
      retCodes: [],
    });
  }
  for (const outcome of [...operation.refusals, ...anyRoute]) {
    const status = OUTCOMES[outcome].status[surface];
    const entry = answers.get(status) ?? { description: "", retCodes: [] };
    entry.retCodes.push(outcome);
    answers.set(status, entry);
  }
  return answers;
}

const json = (schema: z.ZodMiniType) => ({
  "application/json": { schema: z.toJSONSchema(schema, { io: "input" }) },
});

const SECURITY: Record<Security, Record<string, string[]>[]> = {
  none: [],
  apiKey: [{ apiKey: [] }],
  apiKeyOrIdentity: [{ apiKey: [] }, { identityToken: [] }, { cloudflareAccess: [] }],
  session: [{ sessionCookie: [] }, { sessionHeader: [] }],
};

function describeAnswer(description: string, retCodes: readonly Outcome[]): string {
  const codes = retCodes.map(
    (outcome) => `retCode ${OUTCOMES[outcome].retCode}: ${OUTCOMES[outcome].message}`,
  );
  return [description, ...new Set(codes)].filter(Boolean).join("; ");
}

function responseOf(
  operation: Operation,
  status: number,
  answer: { description: string; retCodes: Outcome[] },
) {
  const success = operation.success[status];
  const schema = success?.schema ?? (answer.retCodes.length > 0 ? retCodeAnswer : undefined);
  const headers = success?.headers ?? {};
  return {
    description: describeAnswer(answer.description, answer.retCodes),
    ...(schema && { content: json(schema) }),
    ...(Object.keys(headers).length > 0 && {
      headers: Object.fromEntries(
        Object.entries(headers).map(([name, description]) => [
          name,
          { description, schema: { type: "string" } },
        ]),
      ),
    }),
  };
}

function pathItemOf(operation: Operation) {
  const parameters = Object.entries(operation.parameters ?? {}).map(([name, schema]) => ({
    name,
    in: "path",
    required: true,
    schema: z.toJSONSchema(schema, { io: "input" }),
  }));
  const answers = [...answersOf(operation)].sort(([a], [b]) => a - b);
  return {
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
      answers.map(([status, answer]) => [status, responseOf(operation, status, answer)]),
    ),
  };
}

function retCodeTable(): string {
  const rows = Object.values(OUTCOMES).map(
    (row) => `| ${row.retCode} | ${row.message} | ${row.status.validate} | ${row.status.api} |`,
  );
  return [
    "| retCode | meaning | HTTP on validate | HTTP on /v1 |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

/** The OpenAPI 3.1 document, assembled from the routes' own declarations. */
export function openApiDocument(config: Config) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of operations(config)) {
    paths[operation.path] ??= {};
    (paths[operation.path] as Record<string, unknown>)[operation.method] = pathItemOf(operation);
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
