import { ConfigError, loadConfig } from "./config/config";
import { failureRefusal } from "./core/failures";
import { outcomeResponse } from "./http/answer";
import { appFor } from "./http/app";
import { addressClass } from "./observability/address-class";
import { reportConfigError } from "./observability/config-errors";
import { logAsJsonText } from "./observability/log";

export { TokenService } from "./rpc/token-service";
export { TokenLedger } from "./state/ledger/token-ledger";

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
      // A configuration problem is the deployment's (retCode 11); anything else is sorted
      // like any other failure (src/core/failures.ts).
      if (error instanceof ConfigError) {
        return outcomeResponse("misconfigured", "api", reportConfigError(env, error));
      }
      return outcomeResponse(failureRefusal(error, { phase: "load configuration" }).outcome);
    }
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
