import { WorkerEntrypoint } from "cloudflare:workers";
import { type Caller, issuanceBudget } from "../access/callers";
import { tokenLimit } from "../access/rate-limits";
import { type Config, ConfigError, loadConfig } from "../config/config";
import { type Decision, ok, refuse } from "../core/decision";
import { failureRefusal } from "../core/failures";
import { OUTCOMES, type RetCodeBody, retCodeBody } from "../core/outcomes";
import { issueTokenRequest, parseInput, tokenIdParam, validateRequest } from "../core/schemas";
import { revokeToken } from "../domain/revocations/revoke-token";
import { verifySession } from "../domain/sessions/sessions";
import { type IssuedToken, issueToken } from "../domain/tokens/issue-token";
import { validateToken } from "../domain/tokens/validate-token";
import { type Audit, note } from "../observability/audit";
import { reportConfigError } from "../observability/config-errors";
import { logAsJsonText } from "../observability/log";
import { recordCall } from "../observability/request-log";
import { credentialState } from "../state/state-for";

/**
 * A refused call. Workers RPC carries an error's message across, not its own properties,
 * so the message is `retCode <n>: <message>`; `retCodeOf` reads it back.
 */
export class RetCodeError extends Error {
  constructor(body: RetCodeBody) {
    super(`retCode ${body.retCode}: ${body.message}`);
    this.name = "RetCodeError";
    // A refusal is an answer, not a fault: the runtime logs a rejected RPC call with the
    // error's stack, and a refusal's carries nothing worth a log but its message.
    this.stack = `${this.name}: ${this.message}`;
  }
}

/** The `{retCode, message}` a RetCodeError (or its message, after RPC) carries. */
export function retCodeOf(error: unknown): RetCodeBody | undefined {
  const match = error instanceof Error ? /^retCode (\d+): (.*)$/s.exec(error.message) : null;
  return match ? { retCode: Number(match[1]) as RetCodeBody["retCode"], message: match[2] ?? "" } : undefined;
}

/** Another Worker of the enterprise, bound with `[[services]] … entrypoint = "TokenService"`. */
const SERVICE_BINDING: Caller = { kind: "serviceBinding" };

/**
 * The second front door: Workers RPC for enterprise Workers on Cloudflare, with no API
 * key and no public hop (only code deployed to the account can hold the binding). Each
 * method runs the same validation, rate limits, domain functions and verdicts as its HTTP
 * route, and is logged like one, as `method: "RPC"`, `caller: "service-binding"`.
 *
 * @example
 * // consumer's wrangler.toml: [[services]] binding = "TOKENS_SERVICE", service = "cec-edge-token", entrypoint = "TokenService"
 * const { token } = await env.TOKENS_SERVICE.issueToken({ userId, userName, tenantSpaceId });
 */
export class TokenService extends WorkerEntrypoint<Env> {
  /** `POST /v1/tokens`. A refusal rejects with a RetCodeError. */
  async issueToken(input: {
    userId: string;
    userName: string;
    tenantSpaceId: string;
    ttlSeconds?: number;
  }): Promise<IssuedToken> {
    return orReject(
      await run(this.env, "issueToken", async (config, audit) => {
        const request = parseInput(issueTokenRequest, input);
        if (request.outcome !== "ok") return request;
        note(audit, { tenant: request.value.tenantSpaceId, userId: request.value.userId });
        const overBudget = await issuanceBudget(this.env.ISSUE_LIMITER, SERVICE_BINDING);
        if (overBudget) return overBudget;
        const result = await issueToken(config, credentialState(config, this.env), request.value);
        if (result.outcome !== "ok") return result;
        note(audit, { reason: "token issued", kid: config.signingKeys.current.kid });
        return result;
      }),
    );
  }

  /** `DELETE /v1/tokens/{tokenId}`. A refusal rejects with a RetCodeError. */
  async revokeToken(tokenId: string): Promise<void> {
    orReject(
      await run(this.env, "revokeToken", async (config) => {
        const id = parseInput(tokenIdParam, tokenId);
        if (id.outcome !== "ok") return refuse("malformedRequest", "tokenId is not a token id");
        const overBudget = await issuanceBudget(this.env.ISSUE_LIMITER, SERVICE_BINDING);
        if (overBudget) return overBudget;
        return revokeToken(credentialState(config, this.env), id.value);
      }),
    );
  }

  /** CEC's validate call: the verdict as CEC reads it, `{retCode, message}` (0 = valid). */
  async validateToken(input: {
    Token: string;
    userName: string;
    userId: string;
    tenantSpaceId: string;
  }): Promise<RetCodeBody> {
    const decision = await run(this.env, "validateToken", async (config, audit) => {
      const request = parseInput(validateRequest, input);
      if (request.outcome !== "ok") return request;
      note(audit, { tenant: request.value.tenantSpaceId, userId: request.value.userId });
      const overLimit = await tokenLimit(this.env.TOKEN_LIMITER, request.value.Token);
      if (overLimit) return overLimit;
      const validated = await validateToken(config, credentialState(config, this.env), request.value);
      if (validated.outcome !== "ok") return validated;
      note(audit, { kid: validated.value.kid });
      return ok(undefined);
    });
    return retCodeBody(decision.outcome, decision.outcome === "ok" ? undefined : decision.reason);
  }

  /** `GET /v1/web-channel/verify`, for a `ccmessaging-token` value: the verdict and, when valid, whose session it is. */
  async verifySession(
    value: string,
  ): Promise<RetCodeBody & { tenantId?: string; channelId?: string; userId?: string }> {
    const decision = await run(this.env, "verifySession", async (config, audit) => {
      if (typeof value !== "string" || value === "") {
        return refuse("credentialMissing", "no ccmessaging-token value");
      }
      const verified = await verifySession(config, credentialState(config, this.env), value);
      if (verified.outcome !== "ok") return verified;
      const { tenantId, channelId, userId } = verified.value;
      note(audit, { tenant: tenantId, channelId, userId });
      return ok({ tenantId, channelId, userId });
    });
    return decision.outcome === "ok"
      ? { ...retCodeBody("ok"), ...decision.value }
      : retCodeBody(decision.outcome, decision.reason);
  }
}

/*
 * The helpers below are module functions, not methods: every method of a
 * WorkerEntrypoint (TypeScript's `private` included) can be called over RPC.
 */

/**
 * Runs one call: the configuration, the decision, and its record in the log. A store
 * that failed becomes its refusal (retCode 4 or 13), a bug retCode 4 (its stack logged,
 * never returned); nothing else escapes.
 */
async function run<T>(
  env: Env,
  method: string,
  decide: (config: Config, audit: Audit) => Promise<Decision<T>>,
): Promise<Decision<T>> {
  const started = Date.now();
  // One JSON line per event where a person reads the console (src/index.ts does the same for HTTP).
  logAsJsonText(env.ENVIRONMENT === "development");
  const requestId = crypto.randomUUID();
  const audit: Audit = {};
  let config: Config | undefined;
  let decision: Decision<T>;
  try {
    config = await loadConfig(env);
    decision = await decide(config, audit);
  } catch (error) {
    decision =
      error instanceof ConfigError
        ? refuse("misconfigured", reportConfigError(env, error))
        : failureRefusal(error, { requestId });
  }
  note(audit, {
    outcome: decision.outcome,
    ...(decision.outcome !== "ok" && {
      reason: decision.reason ?? OUTCOMES[decision.outcome].message,
      securityEvent: decision.securityEvent,
      limiter: decision.limiter,
    }),
  });
  if (config) {
    await recordCall({ servedTenants: config.tenantSpaceIds, ...config.logging }, env.METRICS, {
      requestId,
      method: "RPC",
      route: `rpc:${method}`,
      status: OUTCOMES[decision.outcome].status.api,
      audit,
      caller: "service-binding",
      latencyMs: Date.now() - started,
    });
  }
  return decision;
}

function orReject<T>(decision: Decision<T>): T {
  if (decision.outcome !== "ok") throw new RetCodeError(retCodeBody(decision.outcome, decision.reason));
  return decision.value;
}
