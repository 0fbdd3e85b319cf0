import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../bench/workerd.mjs";
import { deploy } from "../scripts/deploy.mjs";
import { preflight } from "../scripts/preflight.mjs";
import { DEVELOPMENT_DEFAULTS } from "../src/config/development";
import { fixtureConfig } from "../test/fixtures/worker-config.mjs";

const run = promisify(execFile);

const SIGNING_KEYS = `k-20261125-abcdef:${Buffer.alloc(32, 9).toString("base64url")}`;
const API_KEYS = "a-real-api-key-0123456789abcdef";
const SECRETS = { SIGNING_KEYS, API_KEYS };

/** A deployable configuration; each test changes one thing. */
const GOOD = `
name = "cec-edge-token"
main = "src/index.ts"
compatibility_date = "2026-11-01"

[vars]
TENANT_SPACE_IDS = "202007159031"

[[kv_namespaces]]
binding = "TOKENS"

[[ratelimits]]
name = "ISSUE_LIMITER"
namespace_id = "1001"
simple = { limit = 600, period = 60 }

[[durable_objects.bindings]]
name = "LEDGER"
class_name = "TokenLedger"

[[migrations]]
tag = "v1"
new_sqlite_classes = ["TokenLedger"]

[env.production]
name = "cec-edge-token-production"
routes = [{ pattern = "cec-auth.shop.test", custom_domain = true }]

[env.production.vars]
ENVIRONMENT = "production"
TENANT_SPACE_IDS = "202007159031"

[[env.production.kv_namespaces]]
binding = "TOKENS"
id = "0f2ac74b498b48028cb68387c421e279"

[[env.production.ratelimits]]
name = "ISSUE_LIMITER"
namespace_id = "3001"
simple = { limit = 600, period = 60 }

[[env.production.durable_objects.bindings]]
name = "LEDGER"
class_name = "TokenLedger"

[env.staging]
name = "cec-edge-token-staging"
routes = [{ pattern = "cec-auth-staging.shop.test", custom_domain = true }]

[env.staging.vars]
ENVIRONMENT = "staging"
TENANT_SPACE_IDS = "202007159031"

[[env.staging.kv_namespaces]]
binding = "TOKENS"
id = "9a0b7c6d5e4f40318273645546372819"

[[env.staging.ratelimits]]
name = "ISSUE_LIMITER"
namespace_id = "2001"
simple = { limit = 600, period = 60 }

[[env.staging.durable_objects.bindings]]
name = "LEDGER"
class_name = "TokenLedger"
`;

/** Writes a wrangler.toml (and optional files beside it) in a fresh folder. */
function project(toml: string, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), "preflight-"));
  writeFileSync(join(dir, "wrangler.toml"), toml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return join(dir, "wrangler.toml");
}

type Finding = { level: string; subject: string; message: string };
const check = (toml: string, vars: Record<string, string> = SECRETS, files = {}, env = "production") =>
  preflight({ env, vars, configPath: project(toml, files), offline: true }) as Promise<Finding[]>;
const errors = (findings: Finding[]) =>
  findings.filter((finding) => finding.level === "error").map((f) => `${f.subject} ${f.message}`);

describe("npm run preflight", () => {
  it("passes a good configuration, saying only what a consistency switch would cost", async () => {
    expect(await check(GOOD)).toEqual([
      {
        level: "note",
        subject: "CONSISTENCY",
        message: expect.stringMatching(
          /^eventual, epoch "eventual"\. If \[env\.production\] last ran another epoch/,
        ),
      },
    ]);
  });

  describe("a partner's deployment: API keys scoped to tenants", () => {
    const twoTenants = GOOD.replace(
      'ENVIRONMENT = "production"\nTENANT_SPACE_IDS = "202007159031"',
      'ENVIRONMENT = "production"\nTENANT_SPACE_IDS = "202007159031,202107150001"',
    );
    const scoped = (scopes: Record<string, string[]>) =>
      twoTenants.replace(
        'ENVIRONMENT = "production"',
        `ENVIRONMENT = "production"\nAPI_KEY_SCOPES = '${JSON.stringify(scopes)}'`,
      );
    const warnings = (findings: Finding[]) =>
      findings.filter((finding) => finding.level === "warning").map((f) => `${f.subject} ${f.message}`);

    it("warns of each key that acts for every tenant, in production with several tenants", async () => {
      const findings = await check(twoTenants, { ...SECRETS, API_KEYS: `acme:${API_KEYS},${API_KEYS}x` });
      expect(warnings(findings)).toEqual([
        expect.stringContaining("API_KEYS the key named acme acts for every one of the 2 tenants served"),
        expect.stringContaining("API_KEYS entry 2 (unnamed) acts for every one of the 2 tenants served"),
      ]);
      expect(errors(findings)).toEqual([]);
    });

    it("is quiet once every key is scoped", async () => {
      const findings = await check(scoped({ acme: ["202007159031"], globex: ["202107150001"] }), {
        ...SECRETS,
        API_KEYS: `acme:${API_KEYS},globex:${API_KEYS}x`,
      });
      expect(warnings(findings)).toEqual([]);
      expect(errors(findings)).toEqual([]);
    });

    it("checks the scopes: a name no key has, a tenant not served", async () => {
      const findings = await check(scoped({ initech: ["202007159031"], acme: ["999999999999"] }), {
        ...SECRETS,
        API_KEYS: `acme:${API_KEYS}`,
      });
      expect(errors(findings)).toEqual([
        expect.stringContaining("API_KEY_SCOPES names initech, which no entry of API_KEYS is named"),
        expect.stringContaining("API_KEY_SCOPES gives acme a tenant space not in TENANT_SPACE_IDS"),
      ]);
    });

    it("without the real API_KEYS here, checks the scopes' tenants and leaves their names to the secret", async () => {
      const { API_KEYS: _, ...signingOnly } = SECRETS;
      const findings = await check(scoped({ acme: ["202007159031"] }), signingOnly);
      expect(errors(findings)).toEqual([]);
    });
  });

  it("names the epoch the environment will run in, and what a switch costs users", async () => {
    const strict = GOOD.replace(
      'ENVIRONMENT = "production"',
      'ENVIRONMENT = "production"\nCONSISTENCY = "strict"\nCONSISTENCY_EPOCH = "2026-12-02"',
    );
    const [note] = await check(strict);
    expect(note).toMatchObject({ level: "note", subject: "CONSISTENCY" });
    expect(note?.message).toContain('strict, epoch "strict:2026-12-02"');
    expect(note?.message).toContain(
      "every token in flight (up to TOKEN_TTL_SECONDS old) and every open web-channel session is refused",
    );
    expect(note?.message).toContain("new CONSISTENCY_EPOCH");
  });

  it.each([
    [
      "a missing required variable",
      GOOD.replace('TENANT_SPACE_IDS = "202007159031"\n\n[[env.production', "\n[[env.production"),
      SECRETS,
      "TENANT_SPACE_IDS is not set (set it under [env.production.vars] in wrangler.toml)",
    ],
    [
      "an invalid variable",
      GOOD.replace('ENVIRONMENT = "production"', 'ENVIRONMENT = "production"\nTOKEN_TTL_SECONDS = "5m"'),
      SECRETS,
      "TOKEN_TTL_SECONDS must be a whole number from 1 to 86400",
    ],
    [
      "the committed development signing key",
      GOOD,
      { ...SECRETS, SIGNING_KEYS: DEVELOPMENT_DEFAULTS.SIGNING_KEYS },
      "SIGNING_KEYS holds the committed development key",
    ],
    [
      "the committed development API key",
      GOOD,
      { ...SECRETS, API_KEYS: DEVELOPMENT_DEFAULTS.API_KEYS },
      "API_KEYS holds the committed development key",
    ],
    [
      "the example domain",
      GOOD.replace("cec-auth.shop.test", "cec-auth.example.com"),
      SECRETS,
      "routes: cec-auth.example.com is the example domain",
    ],
    [
      "a binding the environment does not declare",
      GOOD.replace(/\[\[env\.production\.ratelimits\]\][^[]*/, ""),
      SECRETS,
      'ISSUE_LIMITER is not declared for this environment: add [[env.production.ratelimits]] with name = "ISSUE_LIMITER"',
    ],
    [
      "the ledger's Durable Object binding missing from the environment",
      GOOD.replace(/\[\[env\.production\.durable_objects\.bindings\]\][^[]*/, ""),
      SECRETS,
      'LEDGER is not declared for this environment: add [[env.production.durable_objects.bindings]] with name = "LEDGER"',
    ],
    [
      "the ledger's class without its migration",
      GOOD.replace(/\[\[migrations\]\][^[]*/, ""),
      SECRETS,
      "LEDGER its class TokenLedger has no migration",
    ],
    [
      "TOKEN_MAX_USES without strict mode",
      GOOD.replace('ENVIRONMENT = "production"', 'ENVIRONMENT = "production"\nTOKEN_MAX_USES = "1"'),
      SECRETS,
      "TOKEN_MAX_USES needs CONSISTENCY=strict",
    ],
    [
      "a KV namespace shared with another environment",
      GOOD.replace("9a0b7c6d5e4f40318273645546372819", "0f2ac74b498b48028cb68387c421e279"),
      SECRETS,
      "TOKENS KV namespace id is also used by [env.staging]",
    ],
    [
      "an http origin",
      GOOD.replace(
        'ENVIRONMENT = "production"',
        'ENVIRONMENT = "production"\nALLOWED_ORIGINS = "http://shop.test"',
      ),
      SECRETS,
      "ALLOWED_ORIGINS may list only https origins when ENVIRONMENT=production",
    ],
    [
      "an identity provider whose keys are not on https",
      GOOD.replace(
        'ENVIRONMENT = "production"',
        `ENVIRONMENT = "production"\nIDENTITY_ISSUERS = '[{"issuer":"http://localhost:9000","audience":"cec","jwksUri":"http://localhost:9000/jwks.json","tenantSpaceIds":["202007159031"]}]'`,
      ),
      SECRETS,
      "IDENTITY_ISSUERS entry 1",
    ],
    [
      "a development environment",
      GOOD.replace('ENVIRONMENT = "production"', 'ENVIRONMENT = "development"'),
      SECRETS,
      "ENVIRONMENT is development, which runs on the committed development secrets",
    ],
  ])("reports %s", async (_, toml, vars, expected) => {
    const found = errors(await check(toml, vars));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(expected);
  });

  describe("a secret written as a plain variable (committed to git, deployed as plain text)", () => {
    it.each([
      [
        "SIGNING_KEYS under the environment's own [env.production.vars]",
        GOOD.replace(
          'ENVIRONMENT = "production"',
          `ENVIRONMENT = "production"\nSIGNING_KEYS = "${SIGNING_KEYS}"`,
        ),
        "SIGNING_KEYS is a secret but [env.production.vars] sets it",
      ],
      [
        "API_KEYS under the top-level [vars]",
        GOOD.replace("[vars]\n", `[vars]\nAPI_KEYS = "${API_KEYS}"\n`),
        "API_KEYS is a secret but [vars] sets it",
      ],
      [
        "API_KEYS under another environment's vars",
        GOOD.replace('ENVIRONMENT = "staging"', `ENVIRONMENT = "staging"\nAPI_KEYS = "${API_KEYS}"`),
        "API_KEYS is a secret but [env.staging.vars] sets it",
      ],
    ])("refuses %s, and says to use wrangler secret put", async (_, toml, expected) => {
      const found = errors(await check(toml));
      expect(found).toHaveLength(1);
      expect(found[0]).toContain(expected);
      expect(found[0]).toContain("`wrangler secret put");
      expect(found[0]).not.toContain(SIGNING_KEYS);
      expect(found[0]).not.toContain(API_KEYS);
    });

    it("takes the secrets' names from the Worker's code", async () => {
      const { SECRET_NAMES } = await import("../src/config/policy");
      for (const secret of SECRET_NAMES) {
        const toml = GOOD.replace("[vars]\n", `[vars]\n${secret} = "x"\n`);
        expect(errors(await check(toml))).toEqual([expect.stringContaining(`${secret} is a secret`)]);
      }
    });
  });

  it.each([
    ["production", 'ENVIRONMENT = "staging"', 'ENVIRONMENT = "production"', 'ENVIRONMENT is "staging"'],
    ["staging", 'ENVIRONMENT = "production"', 'ENVIRONMENT = "staging"', 'ENVIRONMENT is "production"'],
    ["staging", "", 'ENVIRONMENT = "staging"', "ENVIRONMENT is not set, so it is production"],
  ])(
    "refuses [env.%s] with %j: it would deploy as another environment",
    async (env, setting, ownSetting, expected) => {
      const found = errors(await check(GOOD.replace(ownSetting, setting), SECRETS, {}, env));
      expect(found).toEqual([expect.stringContaining(expected)]);
      expect(found[0]).toContain(`set ENVIRONMENT = "${env}" under [env.${env}.vars]`);
    },
  );

  it("does not hold other environment names to ENVIRONMENT", async () => {
    const toml = `${GOOD}\n[env.qa]\nname = "cec-edge-token-qa"\nroutes = [{ pattern = "cec-auth-qa.shop.test", custom_domain = true }]\n[env.qa.vars]\nENVIRONMENT = "staging"\nTENANT_SPACE_IDS = "202007159031"\n[[env.qa.kv_namespaces]]\nbinding = "TOKENS"\nid = "1a0b7c6d5e4f40318273645546372819"\n[[env.qa.ratelimits]]\nname = "ISSUE_LIMITER"\nnamespace_id = "4001"\nsimple = { limit = 600, period = 60 }\n[[env.qa.durable_objects.bindings]]\nname = "LEDGER"\nclass_name = "TokenLedger"\n`;
    expect(errors(await check(toml, SECRETS, {}, "qa"))).toEqual([]);
  });

  it("warns of a variable the Worker does not read (a misspelling), and says where to fix a bad value", async () => {
    const findings = await check(
      GOOD.replace(
        'ENVIRONMENT = "production"',
        'ENVIRONMENT = "production"\nALLOWED_ORIGIN = "https://portal.shop.test"\nTOKEN_TTL_SECONDS = "5m"',
      ),
    );
    expect(findings).toContainEqual(
      expect.objectContaining({
        level: "warning",
        subject: "ALLOWED_ORIGIN",
        message: expect.stringContaining("not a variable the Worker reads"),
      }),
    );
    expect(errors(findings)).toEqual([
      "TOKEN_TTL_SECONDS must be a whole number from 1 to 86400 (set it under [env.production.vars] in wrangler.toml)",
    ]);
  });

  it("applies wrangler's rules: a named environment inherits no vars from the top level", async () => {
    // The top level sets TENANT_SPACE_IDS; the environment does not, so the deployed Worker lacks it.
    const toml = GOOD.replace(
      'ENVIRONMENT = "production"\nTENANT_SPACE_IDS = "202007159031"',
      'ENVIRONMENT = "production"',
    );
    expect(errors(await check(toml))).toEqual([
      "TENANT_SPACE_IDS is not set (set it under [env.production.vars] in wrangler.toml)",
    ]);
  });

  it("reads secrets from .dev.vars.<name> and --var overrides; other variables there are never deployed", async () => {
    const files = {
      ".dev.vars.production": `SIGNING_KEYS=${DEVELOPMENT_DEFAULTS.SIGNING_KEYS}\nAPI_KEYS="${API_KEYS}"\nLOG_USER_IDS=raw\n`,
    };
    const findings = await check(GOOD, {}, files);
    expect(errors(findings)).toEqual([
      expect.stringContaining("SIGNING_KEYS holds the committed development key"),
    ]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        level: "warning",
        subject: "LOG_USER_IDS",
        message: expect.stringContaining("never deployed"),
      }),
    );
    expect(errors(await check(GOOD, { SIGNING_KEYS }, files))).toEqual([]);
  });

  it("warns of a key rotation step left pending by npm run keys", async () => {
    const files = {
      ".dev.vars.production": `SIGNING_KEYS=${SIGNING_KEYS}\n# keys: pending rotate SIGNING_KEYS=${SIGNING_KEYS},k-2:${Buffer.alloc(32, 3).toString("base64url")}\n`,
    };
    const findings = await check(GOOD, { API_KEYS }, files);
    expect(errors(findings)).toEqual([]);
    expect(findings).toContainEqual({
      level: "warning",
      subject: "SIGNING_KEYS",
      message: expect.stringContaining("an unfinished `npm run keys -- rotate --env production` is pending"),
    });
  });

  it("says when it could not check the secrets, without failing for it", async () => {
    const findings = await check(GOOD, {});
    expect(errors(findings)).toEqual([]);
    expect(findings).toContainEqual(
      expect.objectContaining({
        level: "warning",
        subject: "secrets:",
        message: expect.stringContaining("could not check that SIGNING_KEYS and API_KEYS exist"),
      }),
    );
  });

  it("lists several problems at once and exits 1: production in wrangler.toml as shipped", async () => {
    // The fixture, alone in a folder: the developer's own wrangler.toml and .dev.vars.production
    // (configured as README "Deploy" says) must not change the result.
    const shipped = fixtureConfig();
    const failing = run(process.execPath, [
      join(root, "scripts/preflight.mjs"),
      "--config",
      shipped,
      "--env",
      "production",
      "--var",
      `API_KEYS:${DEVELOPMENT_DEFAULTS.API_KEYS}`,
      "--var",
      "PLAYGROUND:on",
    ]);
    const { stdout } = await failing.catch((error) => error);
    expect(stdout).toContain("error   routes: cec-auth.example.com is the example domain");
    expect(stdout).toContain(
      "error   TENANT_SPACE_IDS is not set (set it under [env.production.vars] in wrangler.toml)",
    );
    expect(stdout).toContain("error   API_KEYS holds the committed development key");
    expect(stdout).toContain("error   PLAYGROUND must be off when ENVIRONMENT=production");
    // No login and no token reach a test (test-node/setup.ts): that is said, not hidden.
    expect(stdout).toContain(
      "warning secrets: could not check that SIGNING_KEYS exist (wrangler is not logged in)",
    );
    expect(stdout).toContain("preflight: --env production has 4 errors");
    expect(stdout).not.toContain(DEVELOPMENT_DEFAULTS.API_KEYS);
    await expect(failing).rejects.toMatchObject({ code: 1 });
  }, 30_000);

  it("exits 0 on a good configuration, and names an unknown environment", async () => {
    const configPath = project(GOOD);
    const args = ["--config", configPath, "--offline", "--var", `SIGNING_KEYS:${SIGNING_KEYS}`];
    const { stdout } = await run(process.execPath, [
      join(root, "scripts/preflight.mjs"),
      "--env",
      "production",
      ...args,
      "--var",
      `API_KEYS:${API_KEYS}`,
    ]);
    expect(stdout).toMatch(
      /^note {4}CONSISTENCY eventual, epoch "eventual"\. .*\npreflight: --env production is ready to deploy\n$/,
    );
    await expect(
      run(process.execPath, [join(root, "scripts/preflight.mjs"), "--env", "prod", ...args]),
    ).rejects.toMatchObject({ code: 1, stdout: expect.stringContaining("no [env.prod]") });
  });
});

/** wrangler.toml as shipped, configured for production as README "Deploy" says, secrets beside it. */
function deployable() {
  const configPath = fixtureConfig({
    edit: (text) =>
      text
        .replace("cec-auth.example.com", "cec-auth.shop.test")
        .replace(
          'ENVIRONMENT = "production"\nTENANT_SPACE_IDS = ""',
          'ENVIRONMENT = "production"\nTENANT_SPACE_IDS = "202007159031"',
        ),
  });
  writeFileSync(
    join(dirname(configPath), ".dev.vars.production"),
    `SIGNING_KEYS=${SIGNING_KEYS}\nAPI_KEYS=${API_KEYS}\n`,
    { mode: 0o600 },
  );
  return configPath;
}

describe("npm run deploy", () => {
  const quiet = { log: () => {}, warn: () => {} };
  /** `npm run deploy -- --env production --config <configPath> ...more`, as a process of its own. */
  const runDeploy = (configPath: string, more: string[] = [], options: { env?: NodeJS.ProcessEnv } = {}) =>
    run(
      process.execPath,
      [join(root, "scripts/deploy.mjs"), "--env", "production", "--config", configPath, ...more],
      options,
    );

  it("runs wrangler deploy only once preflight passes, on the configuration it checked", async () => {
    const configPath = deployable();
    const calls: { args: string[]; cwd: string }[] = [];
    const run = (args: string[], { cwd }: { cwd: string }) => {
      calls.push({ args, cwd });
      return 0;
    };
    expect(await deploy({ env: "production", configPath, varEntries: ["DOCS:off"] }, { run, ...quiet })).toBe(
      0,
    );
    expect(calls).toEqual([
      {
        args: ["deploy", "--config", configPath, "--env", "production", "--var", "DOCS:off"],
        cwd: dirname(configPath),
      },
    ]);

    calls.length = 0;
    expect(await deploy({ env: "production", configPath: fixtureConfig() }, { run, ...quiet })).toBe(1);
    expect(calls).toEqual([]);
  });

  it("refuses a secret given with --var (it would deploy as plain text), names from the Worker's code", async () => {
    const { SECRET_NAMES } = await import("../src/config/policy");
    for (const secret of SECRET_NAMES) {
      await expect(runDeploy(deployable(), ["--var", `${secret}:x`])).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining(
          `deploy: ${secret} is a secret: set it with \`wrangler secret put ${secret} --env production\``,
        ),
      });
    }
  }, 30_000);

  it("deploy refuses, deploying nothing, when preflight finds an error", async () => {
    await expect(runDeploy(fixtureConfig())).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("deploy: refused, nothing was deployed"),
    });
  }, 30_000);

  it("never deploys from a test, even configured for production with an API token set", async () => {
    const configPath = deployable();
    const failing = runDeploy(configPath, [], {
      env: { ...process.env, CLOUDFLARE_API_TOKEN: "a-token-a-ci-job-would-hold" },
    });
    await expect(failing).rejects.toMatchObject({
      code: 1,
      stdout: expect.stringContaining("preflight: --env production is ready to deploy"),
      stderr: expect.stringContaining("refused to run `wrangler deploy` under a test runner"),
    });
  }, 30_000);

  it("--dry-run builds the checked configuration into dist/<name> beside it", async () => {
    const configPath = deployable();
    await runDeploy(configPath, ["--dry-run"]);
    expect(existsSync(join(dirname(configPath), "dist", "production", "index.js"))).toBe(true);
  }, 60_000);
});
