import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../bench/workerd.mjs";

const run = promisify(execFile);

/** Every script the README documents, by its npm name and file. */
const SCRIPTS = {
  cec: "scripts/cec.mjs",
  keys: "scripts/keys.mjs",
  "cert:cer": "scripts/cert-cer.mjs",
  preflight: "scripts/preflight.mjs",
  deploy: "scripts/deploy.mjs",
  bench: "bench/run.mjs",
  soak: "bench/soak.mjs",
};

describe.each(Object.entries(SCRIPTS))("npm run %s", (name, file) => {
  it("answers --help with its usage, exit 0", async () => {
    const { stdout } = await run(process.execPath, [join(root, file), "--help"]);
    expect(stdout).toContain(`usage: npm run ${name}`);
  });

  it("answers an unknown option with the reason and the usage, exit 2", async () => {
    await expect(run(process.execPath, [join(root, file), "--no-such-option"])).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringMatching(
        new RegExp(`--no-such-option[\\s\\S]*usage: npm run ${name.replace(":", "\\:")}`),
      ),
    });
  });
});

it("npm run dev and dev:https start without fetching Request.cf (offline, two ENOTFOUND stack traces)", () => {
  const { scripts } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const name of ["dev", "dev:https"]) {
    // Miniflare's switch: placeholders for request.cf instead of a fetch from workers.cloudflare.com.
    expect(scripts[name]).toMatch(/(^|&& )CLOUDFLARE_CF_FETCH_ENABLED=false wrangler dev /);
  }
});
