import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { repositoryRoot } from "../test/fixtures/worker-config.mjs";

/** README.md and every page under docs/: what a reader follows links between. */
const pages = [
  "README.md",
  ...readdirSync(join(repositoryRoot, "docs")).map((name) => `docs/${name}`),
].filter((page) => page.endsWith(".md"));

/** Markdown outside fenced code blocks. */
function prose(text: string): string {
  return text.replace(/^```[\s\S]*?^```/gm, "");
}

/** The anchors GitHub gives a page's headings (lower case, punctuation dropped, spaces to hyphens). */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading = ""] of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = heading
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** Every relative link of a page: [text](target) with no scheme. */
function relativeLinks(text: string): string[] {
  return [...prose(text).matchAll(/\]\(([^)\s]+)\)/g)]
    .map(([, target = ""]) => target)
    .filter((target) => !/^[a-z]+:/i.test(target));
}

describe("links between the README and docs/", () => {
  it.each(pages)("%s: every relative link names a file that exists, and a heading it has", (page) => {
    const text = readFileSync(join(repositoryRoot, page), "utf8");
    const broken: string[] = [];
    for (const link of relativeLinks(text)) {
      const [path = "", anchor] = link.split("#");
      const target = path === "" ? join(repositoryRoot, page) : join(repositoryRoot, dirname(page), path);
      if (!existsSync(target)) {
        broken.push(`${link}: no ${relative(repositoryRoot, target)}`);
      } else if (
        anchor !== undefined &&
        target.endsWith(".md") &&
        !anchors(readFileSync(target, "utf8")).has(anchor)
      ) {
        broken.push(`${link}: no heading #${anchor} in ${relative(repositoryRoot, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("computes GitHub's anchors for the headings these pages use", () => {
    expect([...anchors("## The location memo (Cache API, `KV_MEMO_SECONDS`)\n## Costs\n## Costs")]).toEqual([
      "the-location-memo-cache-api-kv_memo_seconds",
      "costs",
      "costs-1",
    ]);
  });
});
