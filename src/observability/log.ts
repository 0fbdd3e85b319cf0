import { replaceControlCharacters } from "../control-characters";

/**
 * Structured log lines: Workers Logs (`observability` in wrangler.toml) indexes the
 * fields of a logged object. Callers pass names, codes, hashes and reasons: never a
 * token, cookie value, API key, identity JWT or request body.
 */
export type LogLevel = "info" | "warn" | "error";

export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}) {
  const line: Record<string, unknown> = { level, event };
  // No control character reaches a line, whatever a field holds. Absent fields are left out rather than logged as undefined: smaller lines, less to format.
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) line[name] = typeof value === "string" ? replaceControlCharacters(value) : value;
  }
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
