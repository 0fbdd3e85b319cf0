import { appFor } from "./app";
import { ConfigError, loadConfig } from "./config/config";
import { retCodeResponse } from "./http/respond";
import { logAsJsonText, logEvent } from "./observability/log";

const reportedConfigErrors = new WeakSet<object>();

export default {
  async fetch(request, env, ctx) {
    logAsJsonText(env.ENVIRONMENT === "development");
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
      return error instanceof ConfigError
        ? retCodeResponse("misconfigured", { detail: error.message })
        : retCodeResponse("misconfigured");
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
