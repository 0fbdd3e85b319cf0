import { exports } from "cloudflare:workers";
import { expect, it } from "vitest";

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
