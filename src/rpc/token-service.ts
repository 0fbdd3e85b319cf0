import { WorkerEntrypoint } from "cloudflare:workers";
import { type Caller, outOfScope, permittedIssue, serviceBindingCaller } from "../access/callers";
import { type Budget, spend, tokenLimit } from "../access/rate-limits";
import { type Config, ConfigError, loadConfig } from "../config/config";
import { type Decision, ok, refuse } from "../core/decision";
import { failureRefusal } from "../core/failures";
import { OUTCOMES, type RetCode, retCodeBody } from "../core/outcomes";
import {
  issueTokenRequest,
  parseInput,
  revokeUserRequest,
  tokenIdParam,
  validateRequest,
} from "../core/schemas";
import { revokeToken } from "../domain/revocations/revoke-token";
import { revokeUser } from "../domain/revocations/revoke-user";
import { verifySession } from "../domain/sessions/sessions";
import { type IssuedToken, issueToken } from "../domain/tokens/issue-token";
import { validateToken } from "../domain/tokens/validate-token";
import { type Audit, note } from "../observability/audit";
import { reportConfigError } from "../observability/config-errors";
import { logAsJsonText } from "../observability/log";
import { recordCall } from "../observability/request-log";
import { credentialState } from "../state/state-for";

/**
 * What every method answers: `{retCode: 0, message, ...what was asked for}`, or a
 * refusal `{retCode, message}` with the HTTP routes' retCode table (README). A refusal
 * is an answer, not an exception: nothing rejects but the transport itself.
 */
export type Answer<T extends object = object> =
  | ({ readonly retCode: 0; readonly message: string } & T)
  | { readonly retCode: Exclude<RetCode, 0>; readonly message: string };

/**
 * The second front door: Workers RPC for enterprise Workers on Cloudflare, with no API
 * key and no public hop (only code deployed to the account can hold the binding). Each
 * method runs the same validation, rate limits, domain functions and refusals as its
 * HTTP route, and is logged like one, as `method: "RPC"`, `caller: "service-binding"`.
 *
 * @example
 * // consumer's wrangler.toml: [[services]] binding = "CHAT_TOKENS", service = "cec-edge-token", entrypoint = "TokenService"
 * const issued = await env.CHAT_TOKENS.issueToken({ userId, userName, tenantSpaceId });
 * if (issued.retCode !== 0) throw new Error(issued.message);
 * page.thirdUserToken = issued.token;
 */
export class TokenService extends WorkerEntrypoint<Env> {
  /** `POST /v1/tokens`: the issued token, or the refusal. Spends the issuance budget. */
  async issueToken(input: {
    userId: string;
    userName: string;
    tenantSpaceId: string;
    ttlSeconds?: number;
  }): Promise<Answer<IssuedToken>> {
    return answered(
      await run(this, "issueToken", "issuance", async (config, audit, caller) => {
        const request = parseInput(issueTokenRequest, input);
        if (request.outcome !== "ok") return request;
        note(audit, { tenant: request.value.tenantSpaceId, userId: request.value.userId });
        const permitted = permittedIssue(caller, request.value, config.tenantSpaceIds);
        if (permitted.outcome !== "ok") return permitted;
        const issued = await issueToken(config, credentialState(config, this.env), permitted.value.request);
        if (issued.outcome === "ok")
          note(audit, { reason: "token issued", kid: config.signingKeys.current.kid });
        return issued;
      }),
    );
  }

  /** `DELETE /v1/tokens/{tokenId}`. Spends the ends budget, never the issuance one. */
  async revokeToken(tokenId: string): Promise<Answer> {
    return answered(
      await run(this, "revokeToken", "ends", async (config, _, caller) => {
        const id = parseInput(tokenIdParam, tokenId);
        if (id.outcome !== "ok") return refuse("malformedRequest", "tokenId is not a token id");
        const scope = caller.kind === "identity" ? undefined : caller.tenants;
        const revoked = await revokeToken(credentialState(config, this.env), id.value, scope);
        return revoked.outcome === "ok" ? ok({}) : revoked;
      }),
    );
  }

  /** `POST /v1/revocations`: `revokedBefore` as the HTTP route answers it. Spends the ends budget. */
  async revokeUser(input: {
    tenantSpaceId: string;
    userId: string;
  }): Promise<Answer<{ revokedBefore: string }>> {
    return answered(
      await run(this, "revokeUser", "ends", async (config, audit, caller) => {
        const user = parseInput(revokeUserRequest, input);
        if (user.outcome !== "ok") return user;
        note(audit, { tenant: user.value.tenantSpaceId, userId: user.value.userId });
        const scoped = outOfScope(caller, user.value.tenantSpaceId);
        if (scoped) return scoped;
        const revoked = await revokeUser(config, credentialState(config, this.env), user.value);
        if (revoked.outcome !== "ok") return revoked;
        return ok({ revokedBefore: new Date(revoked.value * 1000).toISOString() });
      }),
    );
  }

  /** CEC's validate call: the verdict as CEC reads it, `{retCode, message}` (0 = valid). */
  async validateToken(input: {
    Token: string;
    userName: string;
    userId: string;
    tenantSpaceId: string;
  }): Promise<Answer> {
    return answered(
      await run(this, "validateToken", undefined, async (config, audit) => {
        const request = parseInput(validateRequest, input);
        if (request.outcome !== "ok") return request;
        note(audit, { tenant: request.value.tenantSpaceId, userId: request.value.userId });
        const overLimit = await tokenLimit(this.env.TOKEN_LIMITER, request.value.Token);
        if (overLimit) return overLimit;
        const validated = await validateToken(config, credentialState(config, this.env), request.value);
        if (validated.outcome !== "ok") return validated;
        note(audit, { kid: validated.value.kid });
        return ok({});
      }),
    );
  }

  /** `GET /v1/web-channel/verify`, for a `ccmessaging-token` value: whose session it is. */
  async verifySession(
    value: string,
  ): Promise<Answer<{ tenantId: string; channelId: string; userId: string }>> {
    return answered(
      await run(this, "verifySession", undefined, async (config, audit) => {
        if (typeof value !== "string" || value === "") {
          return refuse("credentialMissing", "no ccmessaging-token value");
        }
        const verified = await verifySession(config, credentialState(config, this.env), [value]);
        if (verified.outcome !== "ok") return verified;
        const { tenantId, channelId, userId } = verified.value;
        note(audit, { tenant: tenantId, channelId, userId });
        return ok({ tenantId, channelId, userId });
      }),
    );
  }
}

/*
 * The helpers below are module functions, not methods: every method of a
 * WorkerEntrypoint (TypeScript's `private` included) can be called over RPC.
 */

/**
 * Runs one call: the configuration, the caller's budget, the decision, and its record
 * in the log. A failure is sorted by the one classifier (src/core/failures.ts) into its
 * refusal (retCode 4: 503-like, or a bug's 500-like, its stack logged, never returned);
 * nothing escapes as an exception.
 */
async function run<T>(
  entrypoint: WorkerEntrypoint<Env>,
  method: string,
  budget: Budget | undefined,
  decide: (config: Config, audit: Audit, caller: Caller) => Promise<Decision<T>>,
): Promise<Decision<T>> {
  const { env, ctx } = entrypoint as unknown as { env: Env; ctx: ExecutionContext };
  const started = Date.now();
  // One JSON line per event where a person reads the console (src/index.ts does the same for HTTP).
  logAsJsonText(env.ENVIRONMENT === "development");
  const requestId = crypto.randomUUID();
  const audit: Audit = {};
  let config: Config | undefined;
  let decision: Decision<T>;
  try {
    config = await loadConfig(env);
    const caller = serviceBindingCaller(ctx.props, config.tenantSpaceIds);
    if (caller.outcome !== "ok") decision = caller;
    else {
      note(audit, { binding: caller.value.kind === "serviceBinding" ? caller.value.name : undefined });
      const overBudget = budget === undefined ? undefined : await spend(env, budget, caller.value);
      decision = overBudget ?? (await decide(config, audit, caller.value));
    }
  } catch (error) {
    decision =
      error instanceof ConfigError
        ? refuse("misconfigured", reportConfigError(env, error))
        : failureRefusal(error, { requestId, route: `rpc:${method}` });
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

/** A decision as the caller reads it: `{retCode, message}`, with the value's fields when ok. */
function answered<T extends object>(decision: Decision<T>): Answer<T> {
  if (decision.outcome !== "ok") return retCodeBody(decision.outcome, decision.reason) as Answer<T>;
  return { ...retCodeBody("ok"), ...decision.value } as Answer<T>;
}
