import { appFor } from "./app";
import { ConfigError, loadConfig } from "./config/config";
import { retCodeResponse } from "./http/respond";
import { logEvent } from "./observability/log";

const reportedConfigErrors = new WeakSet<object>();

export default {
  async fetch(request, env, ctx) {
    let app: ReturnType<typeof appFor>;
    try {
      app = appFor(await loadConfig(env));
    } catch (error) {
      // Logged once per isolate, by variable name and reason, never its value.
      if (!reportedConfigErrors.has(env)) {
        reportedConfigErrors.add(env);
        logEvent("error", "configuration_invalid", {
          variable: error instanceof ConfigError ? error.variable : undefined,
          reason: error instanceof ConfigError ? error.reason : "could not be loaded",
        });
      }
      return error instanceof ConfigError
        ? retCodeResponse("misconfigured", { detail: error.message })
        : retCodeResponse("misconfigured");
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
