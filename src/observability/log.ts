import { replaceForbiddenCharacters } from "../core/text";

/**
 * Structured log lines: Workers Logs (`observability` in wrangler.toml) indexes the
 * fields of a logged object. Callers pass names, codes, hashes and reasons: never a
 * token, cookie value, API key, identity JWT or request body.
 */
export type LogLevel = "info" | "warn" | "error";

let asJsonText = false;

/**
 * `wrangler dev` prints a logged object over many lines; in development each event is
 * handed over as one JSON text instead, so it prints as one line. Deployed, the object
 * itself is logged: Cloudflare documents that Workers Logs indexes its fields.
 */
export function logAsJsonText(enabled: boolean) {
  asJsonText = enabled;
}

export function logEvent(level: LogLevel, event: string, fields: Record<string, unknown> = {}) {
  const fieldsPresent: Record<string, unknown> = { level, event };
  // No control or invisible formatting character reaches a line, whatever a field holds. Absent fields are left
  // out rather than logged as undefined: smaller lines, less to format.
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined) {
      fieldsPresent[name] = typeof value === "string" ? replaceForbiddenCharacters(value) : value;
    }
  }
  // Locally every level goes through console.log (the level is a field): `wrangler dev`
  // wraps console.warn and console.error output in its own multi-line blocks.
  if (asJsonText) console.log(JSON.stringify(fieldsPresent));
  else if (level === "error") console.error(fieldsPresent);
  else if (level === "warn") console.warn(fieldsPresent);
  else console.log(fieldsPresent);
}
