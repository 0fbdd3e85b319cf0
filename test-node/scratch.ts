// Runs before every Node-side and e2e test file. Every temporary folder the file's tests
// make, and the tools they start (Node's tmpdir() reads TMPDIR), goes into one folder of
// the file's own, removed when its tests are done: nothing is left behind in the system's
// temporary folder, and no key file a test wrote outlives it.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";

// A worker runs several files in turn: each starts from the system's folder, not the last one's.
process.env.CEC_TEST_SYSTEM_TMPDIR ??= tmpdir();
const systemTmp = process.env.CEC_TEST_SYSTEM_TMPDIR;
export const scratch = mkdtempSync(join(systemTmp, "cec-edge-token-test-"));
process.env.TMPDIR = scratch;

afterAll(() => {
  process.env.TMPDIR = systemTmp;
  rmSync(scratch, { recursive: true, force: true });
});
