// After the browser suite: counts the tests it skipped (from the TAP report
// `npm test` writes beside the spec output) and fails on any skip that
// allowed-skips.json does not list with its reason.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const here = fileURLToPath(new URL("..", import.meta.url));
const db = process.env.RTMS_E2E_DB || "sqlite";
const tap = readFileSync(`${here}artifacts/tap-${db}.txt`, "utf8");
const allowed = JSON.parse(readFileSync(`${here}allowed-skips.json`, "utf8")).skips
  .filter((s) => s.db === db || s.db === "any");

const skipped = [];
for (const line of tap.split("\n")) {
  const m = line.match(/^\s*ok \d+ - (.*?) # SKIP\b(.*)$/);
  if (m) skipped.push({ test: m[1].trim(), reason: m[2].trim() });
}
const unlisted = skipped.filter((s) => !allowed.some((a) => a.test === s.test));
console.log(`browser tests on ${db}: ${skipped.length} skipped, ${allowed.length} allowed`);
for (const s of skipped) console.log(`  skipped: ${s.test} (${s.reason})`);
if (unlisted.length > 0) {
  console.error(`skips not listed in e2e/allowed-skips.json:\n${unlisted.map((s) => `  ${s.test}: ${s.reason}`).join("\n")}`);
  process.exit(1);
}
