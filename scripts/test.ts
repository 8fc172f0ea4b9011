import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";

/**
 * `npm test`: builds the app, runs vitest (unit and integration) and
 * Playwright (pages), and ends with one line "N passed, N failed" over both.
 */

const VITEST_REPORT = "test-results/vitest.json";
const PLAYWRIGHT_REPORT = "test-results/playwright.json";
rmSync(VITEST_REPORT, { force: true });
rmSync(PLAYWRIGHT_REPORT, { force: true });

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, { stdio: "inherit", env });
  return result.status ?? 1;
}

const built = run("npx", ["remix", "vite:build"]);
if (built !== 0) {
  process.stdout.write("0 passed, 1 failed\n");
  process.exit(1);
}
const extraArgs = process.argv.slice(2);
const vitestStatus = run("npx", [
  "vitest",
  "run",
  "--reporter=default",
  "--reporter=json",
  `--outputFile.json=${VITEST_REPORT}`,
  ...extraArgs,
]);
const playwrightStatus = run("npx", ["playwright", "test", "--reporter=list,json"], {
  ...process.env,
  PLAYWRIGHT_JSON_OUTPUT_NAME: PLAYWRIGHT_REPORT,
});

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(VITEST_REPORT)) {
  const report = JSON.parse(readFileSync(VITEST_REPORT, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
} else failed += 1;
if (existsSync(PLAYWRIGHT_REPORT)) {
  const { stats } = JSON.parse(readFileSync(PLAYWRIGHT_REPORT, "utf8"));
  passed += stats.expected;
  failed += stats.unexpected + stats.flaky;
  skipped += stats.skipped;
} else failed += 1;
if ((vitestStatus !== 0 || playwrightStatus !== 0) && failed === 0) failed = 1;

process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}\n`);
process.exit(failed === 0 ? 0 : 1);
