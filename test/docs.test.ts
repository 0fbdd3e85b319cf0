import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { devDependencies } from "../package.json";
import { parseConfig } from "../src/config/config";
import { REFERENCE_SCRIPT_PATH } from "../src/http/routes/docs";
import { openApiDocument } from "../src/openapi/document";
import { call, callWith, ORIGIN } from "./helpers";
import { TEST_BINDINGS } from "./test-env";

/**
 * `/docs` without a CDN (issue 23): the page and Scalar's script come from this Worker
 * (the script from its static assets, public/docs, put there by scripts/docs-assets.mjs),
 * under a policy that lets the page load nothing from anywhere else. The page in a real
 * browser: e2e/docs.e2e.ts.
 */

const SCALAR_VERSION = devDependencies["@scalar/api-reference"];
const page = () => call(new Request(`${ORIGIN}/docs`));
const script = (init: RequestInit = {}) => call(new Request(`${ORIGIN}${REFERENCE_SCRIPT_PATH}`, init));

describe("the page", () => {
  it("names only paths on this origin: no scheme, no other host", async () => {
    const html = await (await page()).text();
    expect(html).not.toMatch(/https?:|\/\/[a-z0-9]/i);
    const references = [...html.matchAll(/\s(?:src|href|data-url)="([^"]*)"/g)].map((match) => match[1]);
    expect(references).toEqual(["/openapi.json", "/openapi.json", REFERENCE_SCRIPT_PATH]);
    expect(html).not.toContain("integrity=");
  });

  it("loads the Scalar version package.json pins exactly, with its default fonts off", async () => {
    expect(SCALAR_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    expect(REFERENCE_SCRIPT_PATH).toBe(`/docs/scalar-api-reference-${SCALAR_VERSION}.js`);
    const html = await (await page()).text();
    const configuration = /data-configuration='([^']*)'/.exec(html)?.[1] ?? "{}";
    expect(JSON.parse(configuration)).toMatchObject({ withDefaultFonts: false, agent: { disabled: true } });
  });

  it("allows this origin only, for scripts, styles, fonts, images and connections", async () => {
    const header = (await page()).headers.get("Content-Security-Policy") ?? "";
    const policy = new Map(
      header.split("; ").map((directive) => {
        const [name = "", ...sources] = directive.split(" ");
        return [name, sources];
      }),
    );
    expect(policy.get("default-src")).toEqual(["'none'"]);
    for (const kind of ["script", "style", "font", "img", "connect"])
      expect(policy.get(`${kind}-src`)?.[0], kind).toBe("'self'");
    // Keywords only: no host, no scheme (not even data:), no nonce or hash.
    const sources = [...policy.values()].flat();
    expect(sources.filter((source) => !["'none'", "'self'", "'unsafe-inline'"].includes(source))).toEqual([]);
    // The one allowance, for Scalar's generated styles (src/http/content-security.ts).
    expect([...policy].filter(([, allowed]) => allowed.includes("'unsafe-inline'"))).toEqual([
      ["style-src", ["'self'", "'unsafe-inline'"]],
    ]);
    expect(policy.get("frame-ancestors")).toEqual(["'none'"]);
  });
});

describe("the script, from the static assets", () => {
  it("is Scalar's bundle of that version, as JavaScript, cached for good", async () => {
    const response = await script();
    expect(response.status).toBe(200);
    expect(response.headers.get("Content-Type")).toMatch(/^(text|application)\/javascript/);
    expect(response.headers.get("X-Content-Type-Options")).toBe("nosniff");
    // The version is in the path: the bytes behind it never change.
    expect(response.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
    expect(response.headers.get("ETag")).toBeTruthy();
    const body = await response.text();
    expect(body.length).toBeGreaterThan(1_000_000);
    expect(body).toContain(`console.info(\`@scalar/api-reference@${SCALAR_VERSION}\`)`);
  });

  it("answers a revalidation with 304, cached the same way", async () => {
    const etag = (await script()).headers.get("ETag") ?? "";
    const revalidated = await script({ headers: { "If-None-Match": etag } });
    expect(revalidated.status).toBe(304);
    expect(revalidated.headers.get("Cache-Control")).toBe("public, max-age=31536000, immutable");
  });

  it("is served at its versioned path only", async () => {
    for (const path of ["/docs/scalar-api-reference-0.0.1.js", "/docs/", "/public/docs/x.js"]) {
      const response = await call(new Request(`${ORIGIN}${path}`));
      expect(response.status, path).toBe(404);
      expect(await response.json()).toMatchObject({ retCode: 10 });
    }
  });
});

describe("DOCS=off", () => {
  it("serves neither the page nor its script; /openapi.json stays", async () => {
    const off = (path: string) => callWith({ DOCS: "off" }, new Request(`${ORIGIN}${path}`));
    expect((await off("/docs")).status).toBe(404);
    expect((await off(REFERENCE_SCRIPT_PATH)).status).toBe(404);
    expect((await off("/openapi.json")).status).toBe(200);
  });
});

describe("/openapi.json: the document the build wrote, made this deployment's", () => {
  const documentOf = async (variables: Record<string, string>) => {
    const response = await callWith(variables, new Request("https://edge.test/openapi.json"));
    expect(response.status).toBe(200);
    return response.json();
  };

  it.each([
    ["as configured for the tests", {}],
    ["with its own VALIDATE_PATH", { VALIDATE_PATH: "/partner/cec/validate" }],
    ["with DOCS=off", { DOCS: "off" }],
  ])("is exactly what the routes' declarations generate, %s", async (_, variables) => {
    const config = await parseConfig({ ...TEST_BINDINGS, ...variables });
    expect(await documentOf(variables)).toEqual(JSON.parse(JSON.stringify(openApiDocument(config))));
  });

  it("is not there when the build step did not run: 404, retCode 10", async () => {
    const noAssets = { fetch: async () => new Response("not found", { status: 404 }) };
    const missing = await callWith({ ASSETS: noAssets }, new Request("https://edge.test/openapi.json"));
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ retCode: 10 });
    // The real assets serve it: the build step ran before the tests (vitest.config.ts).
    expect((await env.ASSETS.fetch("https://assets.local/openapi.json")).status).toBe(200);
  });
});
