import { env } from "cloudflare:workers";
import { HTTPException } from "hono/http-exception";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadConfig } from "../src/config/config";
import { Unavailable } from "../src/core/failures";
import { OUTCOMES } from "../src/core/outcomes";
import { createApp } from "../src/http/app";
import { callWith, ORIGIN } from "./helpers";

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
      throw new Unavailable("kv", "read token record", "timed out");
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
    [403, "notPermitted"],
    [429, "rateLimited"],
  ] as const)("Hono's HTTPException %i keeps its meaning (%s)", async (status, outcome) => {
    vi.spyOn(console, "log").mockImplementation(() => {});
    const send = await appFailingWith(() => {
      throw new HTTPException(status);
    });
    const response = await send();
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ retCode: OUTCOMES[outcome].retCode });
  });

  it("a transient runtime error (a KV 503, a Durable Object flagged overloaded) is a 503; a TypeError is a 500", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    vi.spyOn(console, "log").mockImplementation(() => {});
    const through = async (thrown: Error) => {
      const send = await appFailingWith(() => {
        throw thrown;
      });
      return (await send()).status;
    };
    const flagged = (flags: Record<string, boolean>) => Object.assign(new Error("storage trouble"), flags);
    // Thrown outside a dependency call, a runtime error is a bug whatever it says: only
    // withDeadline sorts a dependency's errors (test/kv-faults.test.ts, test/ledger-client.test.ts).
    expect(await through(flagged({ overloaded: true }))).toBe(500);
    expect(await through(new TypeError("x is not a function"))).toBe(500);
  });

  it("withDeadline sorts a dependency's errors by what they are", async () => {
    const { withDeadline, Unavailable } = await import("../src/core/failures");
    const run = (error: unknown) =>
      withDeadline(1_000, "kv", "read token record", () => Promise.reject(error)).catch((caught) => caught);
    const flagged = (flags: Record<string, boolean>) => Object.assign(new Error("storage trouble"), flags);
    for (const transient of [
      flagged({ overloaded: true }),
      flagged({ retryable: true }),
      new Error("KV GET failed: 503 Service Unavailable"),
      new Error("KV PUT failed: 429 Too Many Requests"),
      new Error("Network connection lost."),
    ]) {
      expect(await run(transient)).toBeInstanceOf(Unavailable);
    }
    for (const bug of [
      new TypeError("cannot read properties of undefined"),
      new Error("KV GET failed: 414 UTF-8 encoded length of 600 exceeds key length limit of 512."),
      new Error("KV PUT failed: 400 Invalid expiration"),
      "a string",
    ]) {
      expect(await run(bug)).toBe(bug);
    }
  });

  it("a missing TOKENS binding is a configuration error naming it (retCode 11), in either mode", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    for (const mode of ["eventual", "strict"]) {
      const response = await callWith(
        { TOKENS: undefined, CONSISTENCY: mode },
        new Request(`${ORIGIN}/healthz`),
      );
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({
        retCode: 11,
        message: expect.stringMatching(/^service misconfigured: TOKENS is not bound/),
      });
    }
  });

  it("a failure while loading the configuration that is not a configuration problem is a 500, tried again next time", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => {});
    let importFails = true;
    const importKey = crypto.subtle.importKey.bind(crypto.subtle);
    vi.spyOn(crypto.subtle, "importKey").mockImplementation(((...args: Parameters<typeof importKey>) => {
      if (importFails) throw new TypeError("key import failed");
      return importKey(...args);
    }) as typeof importKey);
    // A configuration of its own, so that no earlier test's parse is reused.
    const send = (request: Request) => callWith({ TOKEN_TTL_SECONDS: "299" }, request);
    const failed = await send(new Request(`${ORIGIN}/healthz`));
    expect(failed.status).toBe(500);
    expect(failed.headers.get("Retry-After")).toBeNull();
    expect(await failed.json()).toEqual({ retCode: 4, message: "system error: internal error" });
    expect(errors.mock.calls.map(([line]) => line)).toContainEqual(
      expect.objectContaining({ event: "unexpected_error", error: "TypeError: key import failed" }),
    );
    importFails = false;
    expect((await send(new Request(`${ORIGIN}/healthz`))).status).toBe(200);
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
