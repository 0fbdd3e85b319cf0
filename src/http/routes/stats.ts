import { Hono } from "hono";
import type { Config } from "../../config/config";
import { refuse } from "../../core/decision";
import { statsSnapshot } from "../../observability/stats";
import type { Operation } from "../../openapi/operation";
import { answer, NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";
import { requireApiKey } from "../middleware/require-caller";

/**
 * `GET /v1/stats`: this isolate's counters, for an operator without a dashboard (README).
 * They count every tenant's requests, so only a key with no scope may read them: a key
 * scoped to some tenants (API_KEY_SCOPES) is a customer's, and sees nothing of the others.
 */
export function statsRoute(config: Config) {
  return new Hono<AppEnv>().use(requireApiKey({ apiKeys: config.apiKeys })).get("/", (c) => {
    const { caller } = c.var;
    if (caller.kind !== "identity" && caller.tenants !== undefined) {
      return answer(c, refuse("notPermitted", "/v1/stats counts every tenant; use a key with no scope"));
    }
    return c.json(statsSnapshot(), 200, NO_STORE);
  });
}

export const statsOperations: readonly Operation[] = [
  {
    method: "get",
    path: "/v1/stats",
    summary: "This isolate's counters",
    description:
      "Every tenant's requests are counted: a key scoped to tenants (API_KEY_SCOPES) gets 403, retCode 14.",
    security: "apiKey",
    success: { 200: { description: "Counters since the isolate started" } },
    refusals: ["unauthorized", "notPermitted", "rateLimited"],
  },
];
