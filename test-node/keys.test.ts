import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "../bench/workerd.mjs";
import { keysCommand, readCustody } from "../scripts/keys.mjs";

const run = promisify(execFile);

const secret = (fill: number) => Buffer.alloc(32, fill).toString("base64url");
const OLD = `k-20261101-aaaaaa:${secret(1)}`;
const NEW = `k-20261202-bbbbbb:${secret(2)}`;
const kid = (entry: string) => entry.slice(0, entry.indexOf(":"));

/** A custody file in a folder of its own (never the developer's .dev.vars.<name>). */
function custodyFile(text?: string) {
  const file = join(mkdtempSync(join(tmpdir(), "keys-")), ".dev.vars.production");
  if (text !== undefined) writeFileSync(file, text, { mode: 0o600 });
  return file;
}

/**
 * Runs `npm run keys -- <args> --env production --file <file>` in this process, with
 * `wrangler secret put` replaced: `puts` says whether each put succeeds and records what it got.
 */
async function keys(file: string, args: string[], puts: boolean[] = []) {
  const put: string[] = [];
  const out: string[] = [];
  const err: string[] = [];
  const code = await keysCommand([...args, "--env", "production", "--file", file], {
    putSigningKeys: (value: string, env: string) => {
      expect(env).toBe("production");
      put.push(value);
      return (puts.shift() ?? true) ? { ok: true } : { ok: false, detail: "wrangler exited with 1" };
    },
    stdout: (line: string) => out.push(line),
    stderr: (line: string) => err.push(line),
  });
  return { code, put, stdout: out.join("\n"), stderr: err.join("\n"), kept: readCustody(file) };
}

describe("npm run keys: every step checks the set's state", () => {
  it("a whole rotation: rotate, promote, retire, each put before it is kept", async () => {
    const file = custodyFile(`SIGNING_KEYS=${OLD}\n`);
    const rotated = await keys(file, ["rotate"]);
    expect(rotated.code).toBe(0);
    const [, added] = rotated.kept.keys;
    expect(rotated.kept.keys).toEqual([OLD, added]);
    expect(rotated.put).toEqual([`${OLD},${added}`]);
    expect(rotated.kept.newest).toBe(kid(added as string));

    const promoted = await keys(file, ["promote"]);
    expect(promoted.code).toBe(0);
    expect(promoted.kept.keys).toEqual([added, OLD]);
    expect(promoted.put).toEqual([`${added},${OLD}`]);

    const retired = await keys(file, ["retire"]);
    expect(retired.code).toBe(0);
    expect(retired.kept.keys).toEqual([added]);
    expect(retired.put).toEqual([added]);
    expect(retired.stdout).toBe(added);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("promote twice does not un-promote: the second refuses, changing and putting nothing", async () => {
    const file = custodyFile(`SIGNING_KEYS=${OLD},${NEW}\n# keys: newest ${kid(NEW)}\n`);
    expect((await keys(file, ["promote"])).kept.keys).toEqual([NEW, OLD]);
    const before = readFileSync(file, "utf8");

    const again = await keys(file, ["promote"]);
    expect(again.code).toBe(1);
    expect(again.put).toEqual([]);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(again.stderr).toContain(`the newest key ${kid(NEW)} already signs`);
    expect(again.stderr).toContain(`\`npm run keys -- retire --env production --file ${file}\``);
    // A pipe left over from the old recipe gets the set as kept, never an empty value.
    expect(again.stdout).toBe(`${NEW},${OLD}`);
  });

  it("retire refuses while nothing is retire-ready: the new key does not sign yet", async () => {
    const file = custodyFile(`SIGNING_KEYS=${OLD},${NEW}\n# keys: newest ${kid(NEW)}\n`);
    const before = readFileSync(file, "utf8");
    const refused = await keys(file, ["retire"]);
    expect(refused.code).toBe(1);
    expect(refused.put).toEqual([]);
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(refused.stderr).toContain(
      `nothing is ready to retire: ${kid(NEW)} was added but does not sign yet`,
    );
    expect(refused.stderr).toContain(`\`npm run keys -- promote --env production --file ${file}\``);
  });

  it.each([
    ["promote with one key", `SIGNING_KEYS=${OLD}\n`, "promote", "there is no new key to promote"],
    [
      "retire with one key",
      `SIGNING_KEYS=${OLD}\n`,
      "retire",
      `no old key to retire: ${kid(OLD)} is the only key`,
    ],
    ["promote with no set kept", "", "promote", "no SIGNING_KEYS kept in"],
    [
      "rotate during a rotation",
      `SIGNING_KEYS=${NEW},${OLD}\n# keys: newest ${kid(NEW)}\n`,
      "rotate",
      "a rotation is in progress",
    ],
  ])("refuses %s, changing nothing, saying what to do", async (_, text, step, reason) => {
    const file = custodyFile(text);
    const refused = await keys(file, [step]);
    expect(refused.code).toBe(1);
    expect(refused.put).toEqual([]);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect(refused.stderr).toContain(reason);
    expect(refused.stderr).toMatch(/`npm run keys -- \w+ --env production --file /);
  });

  it("retire never removes the signing key", async () => {
    const file = custodyFile(`SIGNING_KEYS=${NEW},${OLD}\n# keys: newest ${kid(NEW)}\n`);
    const retired = await keys(file, ["retire"]);
    expect(retired.kept.keys).toEqual([NEW]);
    expect(retired.stderr).toContain(`tokens signed with ${kid(OLD)} are now refused`);
  });

  it("a failed put keeps the file at what Cloudflare held, the step pending; the same command finishes it", async () => {
    const file = custodyFile(`SIGNING_KEYS=${OLD},${NEW}\n# keys: newest ${kid(NEW)}\n`);
    const failed = await keys(file, ["promote"], [false]);
    expect(failed.code).toBe(1);
    expect(failed.kept.keys).toEqual([OLD, NEW]);
    expect(failed.kept.pending).toEqual({ step: "promote", keys: [NEW, OLD] });
    expect(failed.stderr).toContain(
      "`wrangler secret put SIGNING_KEYS --env production` failed (wrangler exited with 1)",
    );
    expect(failed.stderr).toContain("run the same command again");
    expect(failed.stdout).toBe(`${OLD},${NEW}`);

    // Another step is refused while one is pending.
    const other = await keys(file, ["retire"]);
    expect(other.code).toBe(1);
    expect(other.put).toEqual([]);
    expect(other.stderr).toContain("an unfinished `promote` is pending");

    // Rerunning the line the README gives puts the same set again: never swapped back.
    const finished = await keys(file, ["promote"]);
    expect(finished.code).toBe(0);
    expect(finished.put).toEqual([`${NEW},${OLD}`]);
    expect(finished.kept.keys).toEqual([NEW, OLD]);
    expect(finished.kept.pending).toBeUndefined();
  });

  it("a rotate whose put failed adds the same new key when rerun, not another", async () => {
    const file = custodyFile(`SIGNING_KEYS=${OLD}\n`);
    const failed = await keys(file, ["rotate"], [false]);
    const pendingSet = failed.kept.pending?.keys;
    expect(failed.kept.keys).toEqual([OLD]);
    const finished = await keys(file, ["rotate"]);
    expect(finished.put).toEqual([pendingSet?.join(",")]);
    expect(finished.kept.keys).toEqual(pendingSet);
  });

  it("a first key whose put failed leaves no empty SIGNING_KEYS for wrangler dev or preflight to read", async () => {
    const file = custodyFile();
    const failed = await keys(file, ["rotate"], [false]);
    expect(failed.code).toBe(1);
    expect(readFileSync(file, "utf8")).not.toMatch(/^SIGNING_KEYS=/m);
    expect(failed.kept.pending?.keys).toHaveLength(1);
    expect(failed.stdout).toBe("");
  });

  it("keeps the file's other lines", async () => {
    const file = custodyFile(`# mine\nAPI_KEYS=an-api-key-0123456789\nSIGNING_KEYS=${OLD}\n`);
    await keys(file, ["rotate"]);
    const text = readFileSync(file, "utf8");
    expect(text).toContain("# mine\nAPI_KEYS=an-api-key-0123456789\n");
  });

  it("a set kept without the newest note: told by the kids' dates, else refused with how to note it", async () => {
    // Written by an earlier version after a rotate: the newer date is the newest key.
    const dated = custodyFile(`SIGNING_KEYS=${OLD},${NEW}\n`);
    expect((await keys(dated, ["promote"])).kept.keys).toEqual([NEW, OLD]);

    const sameDay = custodyFile(`SIGNING_KEYS=k-a:${secret(3)},k-b:${secret(4)}\n`);
    const refused = await keys(sameDay, ["promote"]);
    expect(refused.code).toBe(1);
    expect(refused.put).toEqual([]);
    expect(refused.stderr).toContain("cannot tell which of k-a, k-b is the newest");
    expect(refused.stderr).toContain("# keys: newest <kid>");
  });
});

describe("npm run keys, as a process", () => {
  it("a step the set is not ready for exits 1 and changes nothing", async () => {
    const file = custodyFile(`SIGNING_KEYS=${NEW},${OLD}\n# keys: newest ${kid(NEW)}\n`);
    const before = readFileSync(file, "utf8");
    await expect(
      run(process.execPath, [
        join(root, "scripts/keys.mjs"),
        "promote",
        "--env",
        "production",
        "--file",
        file,
      ]),
    ).rejects.toMatchObject({ code: 1, stderr: expect.stringContaining("already signs") });
    expect(readFileSync(file, "utf8")).toBe(before);
  });

  it("never puts a secret from a test: the step stays pending, the file at what Cloudflare held", async () => {
    const file = custodyFile(`SIGNING_KEYS=${OLD}\n`);
    await expect(
      run(process.execPath, [
        join(root, "scripts/keys.mjs"),
        "rotate",
        "--env",
        "production",
        "--file",
        file,
      ]),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining(
        "refused to run `wrangler secret put SIGNING_KEYS` under a test runner",
      ),
      stdout: `${OLD}\n`,
    });
    expect(readCustody(file).keys).toEqual([OLD]);
  });
});

describe("npm run keys -- api-key", () => {
  async function apiKey(args: string[]) {
    const out: string[] = [];
    const code = await keysCommand(["api-key", ...args], { stdout: (line: string) => out.push(line) });
    return { code, printed: out.join("\n") };
  }

  it("prints a bare key, or a named one (name:key) for API_KEY_SCOPES", async () => {
    expect((await apiKey([])).printed).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const named = await apiKey(["--name", "acme"]);
    expect(named).toEqual({ code: 0, printed: expect.stringMatching(/^acme:[A-Za-z0-9_-]{43}$/) });
  });

  it("refuses a name the Worker would refuse, with the usage (exit 2)", async () => {
    await expect(
      run(process.execPath, [join(root, "scripts/keys.mjs"), "api-key", "--name", "two words"]),
    ).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining("--name must be 1 to 64 letters") });
  });
});
