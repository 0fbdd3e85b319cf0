import type { Handler } from "hono";
import * as z from "zod/mini";
import type { Operation } from "../../openapi/operation";
import type { AppEnv } from "../app-env";

/** `GET /healthz`: liveness, answered before anything else (src/http/app.ts): the runtime's floor. */
export const health: Handler<AppEnv> = (c) => c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" });

export const healthOperations: readonly Operation[] = [
  {
    method: "get",
    path: "/healthz",
    summary: "Liveness",
    security: "none",
    success: { 200: { description: "OK", schema: z.object({ status: z.literal("ok") }) } },
    refusals: [],
  },
];
