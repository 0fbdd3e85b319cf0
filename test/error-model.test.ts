import { env } from "cloudflare:workers";
import { HTTPException } from "hono/http-exception";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config/config";
import { InfrastructureFailure } from "../src/core/failures";
import { OUTCOMES } from "../src/core/outcomes";
import { createApp } from "../src/http/app";

/** The real app, with one extra route that fails the way the test says. */
async function appFailingWith(failure: () => never) {
  const app = createApp(await loadConfig(env));
  app.get("/v1/failing", () => failure());
  return (path = "/v1/failing") => app.fetch(new Request(`https://edge.test${path}`), env);
}

afterEach(() => vi.restoreAllMocks());

describe("one error model", () => {
  it("a bug answers 500 retCode 4 with no Retry-After; its stack is logged, never answered", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const send = await appFailingWith(() => {
      throw new TypeError("cannot read properties of undefined (reading 'secret')");
    });
    const response = await send();
    expect(response.status).toBe(500);
    expect(response.headers.get("Retry-After")).toBeNull();
    const body = await response.text();
    expect(JSON.parse(body)).toEqual({ retCode: 4, message: "system error: internal error" });
    expect(body).not.toMatch(/TypeError|secret|\bat /);
    const logged = JSON.stringify(errors.mock.calls);
    expect(logged).toContain("unexpected_error");
    expect(logged).toContain("TypeError");
    expect(logged).toMatch(/stack/);
  });

  it("a dependency that failed is a known-transient 503 with Retry-After", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const send = await appFailingWith(() => {
      throw new InfrastructureFailure("serviceUnavailable", "read token record", "timed out");
    });
    const response = await send();
    expect(response.status).toBe(503);
    expect(response.headers.get("Retry-After")).toBe("1");
    expect(await response.json()).toMatchObject({ retCode: 4 });
  });

  it.each([
    [413, "bodyTooLarge"],
    [415, "unsupportedMediaType"],
    [400, "malformedRequest"],
    [401, "unauthorized"],
  ] as const)("Hono's HTTPException %i keeps its meaning (%s)", async (status, outcome) => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const send = await appFailingWith(() => {
      throw new HTTPException(status);
    });
    const response = await send();
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ retCode: OUTCOMES[outcome].retCode });
  });

  it("every outcome's statuses come from one table: verdicts are 200 to CEC, refusals elsewhere", () => {
    for (const [name, row] of Object.entries(OUTCOMES)) {
      const verdictAboutTheToken = row.status.validate === 200 && row.status.api !== 200;
      if (verdictAboutTheToken) expect([401, 403], name).toContain(row.status.api);
      else expect(row.status.validate, name).toBe(row.status.api);
      if ("retryAfterSeconds" in row) expect([429, 503], name).toContain(row.status.api);
    }
  });
});
