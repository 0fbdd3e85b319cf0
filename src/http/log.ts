/**
 * Structured log lines (Workers Logs indexes the fields of a logged object).
 * Callers pass names, codes and reasons: never a token, key, cookie or request body.
 */
export function logEvent(
  level: "info" | "warn" | "error",
  event: string,
  fields: Record<string, unknown> = {},
) {
  const line = { level, event, ...fields };
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
