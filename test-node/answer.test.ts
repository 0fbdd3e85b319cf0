import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "../bench/workerd.mjs";

/** `<answer> | node scripts/answer.mjs <args>`: its exit status, stdout and stderr. */
function answer(input: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(root, "scripts/answer.mjs"), ...args], {
    input,
    encoding: "utf8",
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

const http = (status: string, headers: string[], body: string) =>
  [`HTTP/1.1 ${status}`, ...headers, "", body].join("\r\n");

describe("node scripts/answer.mjs: README recipes print the answer they got", () => {
  it("prints a JSON field alone on stdout, and the answer on stderr", () => {
    const issued = http(
      "201 Created",
      ["Content-Type: application/json"],
      '{"token":"eyJ.a.b","tokenId":"t1"}',
    );
    const { code, stdout, stderr } = answer(issued, "token");
    expect(code).toBe(0);
    expect(stdout).toBe("eyJ.a.b\n");
    expect(stderr).toContain("HTTP/1.1 201 Created");
    expect(stderr).toContain('{"token":"eyJ.a.b","tokenId":"t1"}');
  });

  it("reads a body alone too (curl -s)", () => {
    expect(answer('{"idToken":"x.y.z"}', "idToken")).toMatchObject({ code: 0, stdout: "x.y.z\n" });
  });

  it("a refusal: exit 1, nothing on stdout, the status and the retCode on stderr", () => {
    const refused = http(
      "401 Unauthorized",
      ["Content-Type: application/json"],
      '{"retCode":9,"message":"missing or invalid API key"}',
    );
    const { code, stdout, stderr } = answer(refused, "token");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("HTTP/1.1 401 Unauthorized");
    expect(stderr).toContain('"retCode":9');
    expect(stderr).toContain("answer: no token in this answer");
  });

  it("takes a cookie's value from Set-Cookie; a spent token's refusal is shown, not swallowed", () => {
    const opened = http(
      "200 OK",
      [
        "Content-Type: application/json",
        "Set-Cookie: other=1; Path=/",
        "Set-Cookie: ccmessaging-token=eyJ0ZW5h%3D; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=None",
      ],
      '{"retCode":0,"message":"validate success"}',
    );
    expect(answer(opened, "--cookie", "ccmessaging-token")).toMatchObject({
      code: 0,
      stdout: "eyJ0ZW5h%3D\n",
    });

    // Issue 20.3: COOKIE=$(curl … | sed …) was empty here and the next call blamed the cookie.
    const spent = http(
      "401 Unauthorized",
      ["Content-Type: application/json"],
      '{"retCode":17,"message":"token already used"}',
    );
    const { code, stdout, stderr } = answer(spent, "--cookie", "ccmessaging-token");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain('{"retCode":17,"message":"token already used"}');
    expect(stderr).toContain("answer: no ccmessaging-token cookie set by this answer");
  });

  it("no answer at all (nothing listening): says so", () => {
    const { code, stderr } = answer("", "token");
    expect(code).toBe(1);
    expect(stderr).toContain("answer: no answer on stdin: is the Worker running (npm run dev)?");
  });

  it("every README recipe that keeps a value from an answer goes through it", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8");
    const captures = [...readme.matchAll(/^[A-Z_]+=\$\(curl[\s\S]*?\)$/gm)].map(([capture]) => capture);
    expect(captures.length).toBeGreaterThanOrEqual(4);
    for (const capture of captures) {
      expect(capture).toMatch(/\| node scripts\/answer\.mjs (--cookie )?[\w-]+\)$/);
    }
  });
});
