import { ConfigError } from "../config/config";
import { logEvent } from "./log";

const reported = new WeakSet<object>();

/**
 * A configuration that does not load, logged once per isolate (per `env`) as one line
 * naming every variable at fault and why, never a value. Returns the detail the answer
 * may carry (the same words), or undefined.
 */
export function reportConfigError(env: object, error: unknown): string | undefined {
  if (!reported.has(env)) {
    reported.add(env);
    logEvent(
      "error",
      "configuration_invalid",
      error instanceof ConfigError
        ? { variables: error.variables, problems: error.problems }
        : { reason: "could not be loaded" },
    );
  }
  return error instanceof ConfigError ? error.message : undefined;
}
