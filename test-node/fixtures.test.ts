import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse as parseToml } from "smol-toml";
import { expect, it } from "vitest";
import { repositoryRoot } from "../test/fixtures/worker-config.mjs";

/** The binding names (not the string variables) of one interface in the generated types. */
function generatedBindings(name: string): string[] {
  const types = readFileSync(join(repositoryRoot, "worker-configuration.d.ts"), "utf8");
  const body = new RegExp(`interface ${name} \\{([^}]*)\\}`).exec(types)?.[1] ?? "";
  return [...body.matchAll(/^\s*(\w+)\??: (.+);$/gm)]
    .filter(([, , type]) => type !== "string")
    .map(([, binding]) => binding as string)
    .sort();
}

type Section = {
  kv_namespaces?: { binding: string }[];
  ratelimits?: { name: string }[];
  durable_objects?: { bindings: { name: string }[] };
};
const bindingsOf = (section: Section, assets?: { binding: string }) =>
  [
    ...(section.kv_namespaces ?? []).map((entry) => entry.binding),
    ...(section.ratelimits ?? []).map((entry) => entry.name),
    ...(section.durable_objects?.bindings ?? []).map((entry) => entry.name),
    ...(assets ? [assets.binding] : []),
  ].sort();

it("the tests' wrangler.toml declares the bindings wrangler.toml does (the types generated from it)", () => {
  // The tests run on test/fixtures/wrangler.toml, never on the developer's wrangler.toml; the
  // types `npm run cf-typegen` generates from wrangler.toml say what it declares.
  const fixture = parseToml(
    readFileSync(join(repositoryRoot, "test/fixtures/wrangler.toml"), "utf8"),
  ) as Section & {
    assets: { binding: string };
    env: Record<string, Section>;
  };
  expect(bindingsOf(fixture, fixture.assets)).toEqual(generatedBindings("__BaseEnv_Env"));
  // Named environments inherit `assets` (wrangler treats it as inheritable), not the rest.
  expect(bindingsOf(fixture.env.staging as Section, fixture.assets)).toEqual(generatedBindings("StagingEnv"));
  expect(bindingsOf(fixture.env.production as Section, fixture.assets)).toEqual(
    generatedBindings("ProductionEnv"),
  );
});
