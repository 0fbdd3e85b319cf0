import { appFor } from "./app";
import { ConfigError, loadConfig } from "./config/config";
import { logEvent } from "./http/log";
import { errorResponse } from "./http/respond";

const reportedConfigErrors = new WeakSet<object>();

export default {
  async fetch(request, env, ctx) {
    let app: ReturnType<typeof appFor>;
    try {
      app = appFor(await loadConfig(env));
    } catch (error) {
      // Logged once per isolate, by variable name and reason, never its value.
      if (error instanceof ConfigError && !reportedConfigErrors.has(env)) {
        reportedConfigErrors.add(env);
        logEvent("error", "configuration_invalid", { variable: error.variable, reason: error.reason });
      }
      return errorResponse(error);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
