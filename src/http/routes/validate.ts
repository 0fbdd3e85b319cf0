import { Hono } from "hono";
import type { Config } from "../../config/config";
import { retCodeAnswer, validateRequest } from "../../core/schemas";
import { validateToken } from "../../domain/tokens/validate-token";
import { note } from "../../observability/audit";
import { BODY_REFUSALS, type Operation, TOKEN_VERDICTS } from "../../openapi/operation";
import { credentialState } from "../../state/state-for";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";
import { jsonBody, limitBody } from "../json-body";
import { admitTokenAttempt } from "./token-attempt";

/**
 * CEC's validate call (Huawei, "Developing a Token Generation Mechanism and Token
 * Authentication API", Tables 1 and 2). Every verdict about the token is HTTP 200 with
 * its `retCode` (the `validate` surface of src/core/outcomes.ts); only failures of the call
 * itself (malformed request, rate limited, unavailable) use another status.
 */
export function validateRoute(config: Config) {
  return new Hono<AppEnv>()
    .use(async function validateSurface(c, next) {
      c.set("surface", "validate");
      await next();
    })
    .post("/", limitBody, jsonBody(validateRequest), async (c) => {
      const request = c.req.valid("json");
      const refused = await admitTokenAttempt(c, request);
      if (refused) return refused;
      const validated = await validateToken(config, credentialState(config, c.env), request);
      if (validated.outcome !== "ok") return answer(c, validated);
      note(c.var.audit, { kid: validated.value.kid });
      return answer(c, "ok");
    });
}

export const validateOperations = (config: Config): readonly Operation[] => [
  {
    method: "post",
    path: config.validatePath,
    summary: "Validate a token (called by CEC)",
    description:
      "Huawei CEC's token authentication API. Every verdict about the token is HTTP 200 with its retCode; " +
      'retCode 0 with message "validate success" means valid.',
    security: "none",
    surface: "validate",
    body: validateRequest,
    success: { 200: { description: "retCode 0: valid", schema: retCodeAnswer } },
    refusals: [...BODY_REFUSALS, ...TOKEN_VERDICTS, "rateLimited", "serviceUnavailable"],
  },
];
