import { Hono } from "hono";
import type { Config } from "../../config/config";
import { statsSnapshot } from "../../observability/stats";
import type { Operation } from "../../openapi/operation";
import { NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";
import { requireApiKey } from "../middleware/require-caller";

/** `GET /v1/stats`: this isolate's counters, for an operator without a dashboard (README). */
export function statsRoute(config: Config) {
  return new Hono<AppEnv>()
    .use(requireApiKey({ apiKeys: config.apiKeys }))
    .get("/", (c) => c.json(statsSnapshot(), 200, NO_STORE));
}

export const statsOperations: readonly Operation[] = [
  {
    method: "get",
    path: "/v1/stats",
    summary: "This isolate's counters",
    security: "apiKey",
    success: { 200: { description: "Counters since the isolate started" } },
    refusals: ["unauthorized", "rateLimited"],
  },
];
