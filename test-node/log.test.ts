import { afterEach, describe, expect, it, vi } from "vitest";
import { logAsJsonText, logEvent } from "../src/observability/log";

// `wrangler dev` prints console.warn and console.error inside its own "▲ [WARNING]" and
// "✘ [ERROR]" blocks (with blank lines), so a record written through them is not a line of
// JSON; console.log output reaches the terminal as it is.
describe("logEvent, logging as JSON text (development, any local wrangler dev)", () => {
  afterEach(() => {
    logAsJsonText(false);
    vi.restoreAllMocks();
  });

  it("writes every level, warnings and errors included, as one line of JSON through console.log", () => {
    const written = { log: vi.fn(), warn: vi.fn(), error: vi.fn() };
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation(written[level]);
    }
    logAsJsonText(true);
    logEvent("info", "request", { status: 200 });
    logEvent("warn", "security", { kind: "api_key_rejected", reason: "line\nbreak" });
    logEvent("error", "internal_error", { stack: "Error: x\n    at f (a.ts:1:1)" });

    expect(written.warn).not.toHaveBeenCalled();
    expect(written.error).not.toHaveBeenCalled();
    const lines = written.log.mock.calls.map(([line]) => line as string);
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).not.toContain("\n");
      expect(() => JSON.parse(line)).not.toThrow();
    }
    expect(lines.map((line) => JSON.parse(line).level)).toEqual(["info", "warn", "error"]);
  });

  it("deployed, hands Workers Logs the object at its own level, which it indexes", () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    logEvent("warn", "security", { kind: "unknown_kid" });
    expect(warn).toHaveBeenCalledWith({ level: "warn", event: "security", kind: "unknown_kid" });
  });
});
