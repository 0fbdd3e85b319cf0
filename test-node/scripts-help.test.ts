import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../bench/workerd.mjs";

const run = promisify(execFile);

/** Every tool the README documents, by how the README runs it, and its file. */
const SCRIPTS = {
  "npm run cec": "scripts/cec.mjs",
  "npm run keys": "scripts/keys.mjs",
  "npm run cert:cer": "scripts/cert-cer.mjs",
  "npm run onboard": "scripts/onboard.mjs",
  "npm run openapi": "scripts/openapi.mjs",
  "npm run preflight": "scripts/preflight.mjs",
  "npm run deploy": "scripts/deploy.mjs",
  "npm run bench": "bench/run.mjs",
  "npm run soak": "bench/soak.mjs",
  // Run by `npm run dev:https`, whose arguments go to wrangler dev: run alone for its own.
  "node scripts/dev-cert.mjs": "scripts/dev-cert.mjs",
  // The README's recipes pipe answers into it.
  "curl -si … | node scripts/answer.mjs": "scripts/answer.mjs",
};

describe.each(Object.entries(SCRIPTS))("%s", (command, file) => {
  it("answers --help with its usage, exit 0", async () => {
    const { stdout } = await run(process.execPath, [join(root, file), "--help"]);
    expect(stdout).toContain(`usage: ${command}`);
  });

  it.each([
    ["--no-such-option", "unknown option '--no-such-option'"],
    ["-Z", "unknown option '-Z'"],
  ])("answers %s with the reason and its own usage, exit 2", async (option, reason) => {
    const failing = run(process.execPath, [join(root, file), option]);
    await expect(failing).rejects.toMatchObject({ code: 2, stdout: "" });
    const { stderr } = await failing.catch((error) => error);
    expect(stderr).toContain(reason);
    expect(stderr).toContain(`usage: ${command}`);
    // Not Node's advice for parseArgs, which says nothing about this tool.
    expect(stderr).not.toContain("place it at the end");
  });
});

it("npm run dev and dev:https start without fetching Request.cf (offline, two ENOTFOUND stack traces)", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const name of ["dev", "dev:https"]) {
    // Miniflare's switch: placeholders for request.cf instead of a fetch from workers.cloudflare.com.
    expect(scripts[name]).toMatch(/(^|&& )CLOUDFLARE_CF_FETCH_ENABLED=false wrangler dev /);
  }
});
