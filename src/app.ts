import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { AppEnv } from "./app-env";
import type { Config } from "./config/config";
import { defaultContentSecurityPolicy } from "./http/content-security";
import { errorResponse, respond } from "./http/respond";
import { corsForAllowedOrigins, requireAllowedOrigin } from "./middleware/origins";
import { addressCeiling } from "./middleware/rate-limit";
import { requireHttps } from "./middleware/require-https";
import { observe } from "./observability/request-log";
import { developmentIdpRoute } from "./routes/development-idp";
import { docsRoute } from "./routes/docs";
import { playgroundRoute } from "./routes/playground";
import { revocationsRoute } from "./routes/revocations";
import { statsRoute } from "./routes/stats";
import { tokensRoute } from "./routes/tokens";
import { validateRoute } from "./routes/validate";
import { webChannelRoute } from "./routes/web-channel";

/**
 * The whole service as one chain. Built once per configuration, because the validate
 * route's path is itself configuration (VALIDATE_PATH).
 */
export function createApp(config: Config) {
  const app = new Hono<AppEnv>()
    .use(defaultContentSecurityPolicy)
    .use(requireHttps(config))
    // Before the rest: a liveness probe is the runtime's floor, neither logged nor counted.
    .get("/healthz", (c) => c.json({ status: "ok" }, 200, { "Cache-Control": "no-store" }))
    .use(observe(config))
    .use(secureHeaders({ crossOriginResourcePolicy: "same-site" }))
    .route("/", docsRoute(config))
    .use("/v1/*", corsForAllowedOrigins(config))
    .use("/v1/web-channel/*", requireAllowedOrigin(config))
    .use("/v1/*", addressCeiling)
    .use(config.validatePath, addressCeiling)
    .route("/v1/tokens", tokensRoute(config))
    .route("/v1/revocations", revocationsRoute(config))
    .route("/v1/web-channel", webChannelRoute(config))
    .route("/v1/stats", statsRoute(config))
    .route(config.validatePath, validateRoute(config));
  if (config.environment === "development") app.route("/dev/idp", developmentIdpRoute());
  if (config.playground) app.route("/playground", playgroundRoute(config));
  return app.notFound((c) => respond(c, "notFound")).onError((error, c) => errorResponse(error, c));
}

const apps = new WeakMap<Config, ReturnType<typeof createApp>>();

export function appFor(config: Config) {
  let app = apps.get(config);
  if (!app) {
    app = createApp(config);
    apps.set(config, app);
  }
  return app;
}
