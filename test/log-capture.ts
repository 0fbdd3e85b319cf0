import { afterEach, beforeEach, type MockInstance, vi } from "vitest";

export type Line = Record<string, unknown>;

/**
 * Captures every structured line the Worker logs, at any level, for the tests of the file
 * that calls this (console is silenced meanwhile). Returns readers of what was captured.
 */
export function captureLogs() {
  let spies: MockInstance[] = [];
  beforeEach(() => {
    spies = (["log", "warn", "error"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation(() => {}),
    );
  });
  afterEach(() => vi.restoreAllMocks());
  const logged = (): Line[] => spies.flatMap((spy) => spy.mock.calls.map((args) => args[0] as Line));
  return {
    logged,
    requestLines: () => logged().filter((line) => line.event === "request"),
    securityLines: () => logged().filter((line) => line.event === "security"),
    clearLogs: () => {
      for (const spy of spies) spy.mockClear();
    },
  };
}
