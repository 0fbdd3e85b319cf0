import { appFor } from "./app";
import { ConfigError, loadConfig } from "./config/config";
import { outcomeResponse } from "./http/answer";
import { addressClass } from "./observability/caller";
import { logAsJsonText, logEvent } from "./observability/log";

export { TokenService } from "./rpc/token-service";
export { TokenLedger } from "./state/ledger/token-ledger";

const reportedConfigErrors = new WeakSet<object>();

export default {
  async fetch(request, env, ctx) {
    // One JSON line per event where a person reads the console: development, and any
    // local `wrangler dev` (the caller is loopback, which Cloudflare's edge never reports).
    logAsJsonText(
      env.ENVIRONMENT === "development" ||
        addressClass(request.headers.get("CF-Connecting-IP")) === "loopback",
    );
    let app: ReturnType<typeof appFor>;
    try {
      app = appFor(await loadConfig(env));
    } catch (error) {
      // Logged once per isolate, as one line naming every variable at fault and why, never a value.
      if (!reportedConfigErrors.has(env)) {
        reportedConfigErrors.add(env);
        logEvent(
          "error",
          "configuration_invalid",
          error instanceof ConfigError
            ? { variables: error.variables, problems: error.problems }
            : { reason: "could not be loaded" },
        );
      }
      return outcomeResponse(
        "misconfigured",
        "api",
        error instanceof ConfigError ? error.message : undefined,
      );
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
