// The project's wrangler, run on this same Node (22, from devDependencies) whatever PATH says.
// Under a test runner only commands that change nothing on Cloudflare may run: a test can
// never deploy or put a secret, whatever the configuration, the environment or the login.
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const WRANGLER = join(root, "node_modules", "wrangler", "bin", "wrangler.js");

/** Vitest sets VITEST in its own process, so every process a test starts inherits it. */
export const underTestRunner = () => Boolean(process.env.VITEST);

/** Commands that only read, build locally or run locally. */
function changesNothing(args) {
  const [command, subcommand] = args;
  if (command === "deploy") return args.includes("--dry-run");
  if (command === "secret") return subcommand === "list";
  return command === "dev" || command === "types" || command === "--version";
}

/**
 * The file and arguments that run `wrangler <args>`. Throws, under a test runner, for any
 * command that could change something on Cloudflare.
 */
export function wranglerCommand(args) {
  if (underTestRunner() && !changesNothing(args)) {
    const firstFlag = args.findIndex((arg) => arg.startsWith("-"));
    const command = (firstFlag === -1 ? args : args.slice(0, firstFlag)).join(" ");
    throw new Error(
      `refused to run \`wrangler ${command}\` under a test runner (VITEST is set): ` +
        "tests may only run wrangler commands that change nothing on Cloudflare",
    );
  }
  return { file: process.execPath, args: [WRANGLER, ...args] };
}
