import type { Context } from "hono";
import { tokenLimit } from "../../access/rate-limits";
import type { ValidateRequest } from "../../core/schemas";
import { note } from "../../observability/audit";
import { answer } from "../answer";
import type { AppEnv } from "../app-env";

/**
 * A request that presents one of our tokens (the validate call, a session open): noted
 * for the log by whom it names, then held to the per-token limit (TOKEN_LIMITER, keyed on
 * the token's hash). Returns the answer when refused.
 */
export async function admitTokenAttempt(
  c: Context<AppEnv>,
  request: ValidateRequest,
): Promise<Response | undefined> {
  note(c.var.audit, { tenant: request.tenantSpaceId, userId: request.userId });
  const overLimit = await tokenLimit(c.env.TOKEN_LIMITER, request.Token);
  return overLimit ? answer(c, overLimit) : undefined;
}
