import { Validator } from "@seriousme/openapi-schema-validator";
import { expect, it } from "vitest";
import { parseConfig } from "../src/config/config";
import { createApp } from "../src/http/app";
import { openApiDocument } from "../src/openapi/document";
import { TEST_BINDINGS } from "../test/test-env";

const config = await parseConfig({
  ...TEST_BINDINGS,
  VALIDATE_PATH: "/rest/cc-messaging/v1/thirdparty/chatThirdPartyValidate",
});
const document = openApiDocument(config);

it("is a valid OpenAPI 3.1 document", async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  expect(result.errors ?? []).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe("3.1");
});

it("documents every route the app serves, and nothing it does not", () => {
  const served = new Set(
    createApp(config)
      .routes.filter((route) => route.method !== "ALL")
      .map((route) => `${route.method.toLowerCase()} ${route.path.replace(/:(\w+)/g, "{$1}")}`),
  );
  const documented = new Set(
    Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method} ${path}`),
    ),
  );
  expect([...documented].sort()).toEqual([...served].sort());
});

it("carries the retCode table", () => {
  expect(document.info.description).toContain("| 0 | validate success | 200 | 200 |");
  expect(document.info.description).toContain("| 6 | token revoked or unknown | 200 | 401 |");
  expect(document.info.description).toContain("| 16 | HTTPS required | 403 | 403 |");
});
