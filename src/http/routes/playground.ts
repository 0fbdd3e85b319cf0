import { Hono } from "hono";
import type { Config } from "../../config/config";
import { NO_STORE } from "../answer";
import type { AppEnv } from "../app-env";
import { PLAYGROUND_POLICY } from "../content-security";

/**
 * `/playground`: the integration playground (public/playground, Workers static assets),
 * mounted only when the configuration allows it (src/http/app.ts). `config.json` tells the
 * page what it needs to know and nothing secret.
 */
export function playgroundRoute(config: Config) {
  return new Hono<AppEnv>()
    .get("/config.json", (c) =>
      c.json(
        {
          environment: config.environment,
          tenantSpaceIds: [...config.tenantSpaceIds],
          validatePath: config.validatePath,
          developmentIdentityProvider: config.environment === "development",
        },
        200,
        NO_STORE,
      ),
    )
    .get("/", (c) => asset(c.env, new URL("/playground/index.html", c.req.url)))
    .get("/*", (c) => asset(c.env, c.req.raw));
}

/** An asset, re-wrapped: the binding's responses have immutable headers, and ours add some. */
async function asset(env: Env, request: URL | Request): Promise<Response> {
  const fetched = await env.ASSETS.fetch(request);
  const response = new Response(fetched.body, fetched);
  response.headers.set("Content-Security-Policy", PLAYGROUND_POLICY);
  return response;
}
