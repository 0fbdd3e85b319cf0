import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config/config";
import { NO_STORE } from "../http/respond";
import { requireApiKey } from "../middleware/api-key";
import { statsSnapshot } from "../observability/stats";

/** `GET /v1/stats`: this isolate's counters, for an operator without a dashboard (README). */
export function statsRoute(config: Config) {
  return new Hono<AppEnv>()
    .use(requireApiKey(config))
    .get("/", (c) => c.json(statsSnapshot(), 200, NO_STORE));
}
