import type { ConfigError } from "../config/config";
import { logEvent } from "./log";

const reported = new WeakSet<object>();

/**
 * A configuration that does not load, logged once per isolate (per `env`) as one line
 * naming every variable or binding at fault and why, never a value. Returns the detail
 * the answer carries (the same words).
 */
export function reportConfigError(env: object, error: ConfigError): string {
  if (!reported.has(env)) {
    reported.add(env);
    logEvent("error", "configuration_invalid", { variables: error.variables, problems: error.problems });
  }
  return error.message;
}
