import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { callWith, DEVELOPMENT_ENV } from "./helpers";

it("answers /healthz", async () => {
  const response = await exports.default.fetch("https://edge.test/healthz");
  expect(response.status).toBe(200);
  expect(await response.json()).toEqual({ status: "ok" });
});

it("serves the OpenAPI document and the reference page", async () => {
  const document = await exports.default.fetch("https://edge.test/openapi.json");
  expect(document.status).toBe(200);
  const body = await document.json<{ openapi: string; paths: Record<string, unknown> }>();
  expect(body.openapi).toBe("3.1.0");
  expect(Object.keys(body.paths)).toContain("/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate");
  const page = await exports.default.fetch("https://edge.test/docs");
  expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
  expect(await page.text()).toContain('data-url="/openapi.json"');
});

describe("the playground", () => {
  const development = DEVELOPMENT_ENV;

  it("is served in development, with its configuration", async () => {
    const page = await callWith(development, new Request("https://edge.test/playground"));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("CEC chat authentication playground");
    const script = await callWith(development, new Request("https://edge.test/playground/playground.js"));
    expect(script.headers.get("Content-Type")).toMatch(/javascript/);
    const config = await callWith(development, new Request("https://edge.test/playground/config.json"));
    expect(await config.json()).toEqual({
      environment: "development",
      tenantSpaceIds: ["202007159031"],
      validatePath: "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate",
      developmentIdentityProvider: true,
    });
  });

  it("is not served by default anywhere else, and production refuses PLAYGROUND=on", async () => {
    for (const environment of ["test", "staging", "production"]) {
      const response = await callWith(
        { ENVIRONMENT: environment },
        new Request("https://edge.test/playground/playground.js"),
      );
      expect(response.status).toBe(404);
    }
    expect(
      (
        await callWith(
          { ENVIRONMENT: "staging", PLAYGROUND: "on" },
          new Request("https://edge.test/playground"),
        )
      ).status,
    ).toBe(200);
    const refused = await callWith(
      { ENVIRONMENT: "production", PLAYGROUND: "on" },
      new Request("https://edge.test/healthz"),
    );
    expect(await refused.json()).toMatchObject({
      retCode: 11,
      message: expect.stringContaining("PLAYGROUND"),
    });
  });
});
