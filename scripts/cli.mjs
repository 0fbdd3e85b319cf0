// Shared by the project's scripts: the same answer to --help (usage, exit 0) and to an
// unknown option or stray argument (the reason and the usage, exit 2).
import { parseArgs } from "node:util";

/**
 * parseArgs with `--help`/`-h` added. `allowPositionals`: whether bare arguments
 * (subcommands, URLs) are accepted.
 */
export function parseOptions(tool, usage, argv, options, { allowPositionals = false } = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals,
      strict: true,
      options: { ...options, help: { type: "boolean", short: "h" } },
    });
  } catch (error) {
    usageError(tool, usage, error.message);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  return parsed;
}

/** Prints what is wrong and the usage, and exits 2. */
export function usageError(tool, usage, reason) {
  console.error(`${tool}: ${reason}\n\n${usage}`);
  process.exit(2);
}
