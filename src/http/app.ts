import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import type { Config } from "../config/config";
import { observe } from "../observability/request-log";
import { answer, answerError } from "./answer";
import type { AppEnv } from "./app-env";
import { defaultContentSecurityPolicy } from "./content-security";
import { addressCeiling } from "./middleware/address-ceiling";
import { corsForAllowedOrigins, requireAllowedOrigin } from "./middleware/origins";
import { requireHttps } from "./middleware/require-https";
import { developmentIdpRoute } from "./routes/development-idp";
import { docsRoute } from "./routes/docs";
import { health } from "./routes/health";
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
  const origins = { allowedOrigins: config.allowedOrigins };
  const app = new Hono<AppEnv>()
    .use(defaultContentSecurityPolicy)
    .use(requireHttps({ enforced: config.environment === "production" || config.environment === "staging" }))
    // Before the rest: a liveness probe is the runtime's floor, neither logged nor counted.
    .get("/healthz", health)
    .use(observe({ servedTenants: config.tenantSpaceIds, ...config.logging }))
    .use(secureHeaders({ crossOriginResourcePolicy: "same-site" }))
    .route("/", docsRoute(config))
    .use("/v1/*", corsForAllowedOrigins(origins))
    .use("/v1/web-channel/*", requireAllowedOrigin(origins))
    .use("/v1/*", addressCeiling())
    .use(config.validatePath, addressCeiling())
    .route("/v1/tokens", tokensRoute(config))
    .route("/v1/revocations", revocationsRoute(config))
    .route("/v1/web-channel", webChannelRoute(config))
    .route("/v1/stats", statsRoute(config))
    .route(config.validatePath, validateRoute(config));
  if (config.environment === "development") app.route("/dev/idp", developmentIdpRoute());
  if (config.playground) app.route("/playground", playgroundRoute(config));
  return app.notFound((c) => answer(c, "notFound")).onError(answerError);
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
