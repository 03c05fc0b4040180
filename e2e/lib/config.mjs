// Configuration of the browser tests, from the environment.
import path from "node:path";
import { fileURLToPath } from "node:url";

export const E2E_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export const config = {
  /** The rtms binary under test. */
  bin: path.resolve(E2E_DIR, process.env.RTMS_BIN || "../target/debug/rtms"),
  /** "sqlite" (default) or "postgres". */
  db: (process.env.RTMS_E2E_DB || "sqlite").toLowerCase(),
  /** A PostgreSQL server where fresh databases may be created and dropped. */
  pgUrl: process.env.RTMS_TEST_PG_URL || "postgres://postgres@127.0.0.1:5432/postgres",
  chromium: process.env.CHROMIUM || "/usr/bin/chromium",
  /** Show the browser (RTMS_E2E_HEADED=1) for debugging. */
  headed: process.env.RTMS_E2E_HEADED === "1",
  /** Default wait for something to appear on a page, ms. */
  timeout: Number(process.env.RTMS_E2E_TIMEOUT || 10_000),
};

if (!["sqlite", "postgres"].includes(config.db)) {
  throw new Error(`RTMS_E2E_DB must be sqlite or postgres, not ${config.db}`);
}

/** Screenshots and server logs of this run: artifacts/<db>/. */
export const ARTIFACTS = path.join(E2E_DIR, "artifacts", config.db);

export const DEMO_PASSWORD = "rtms-demo-password";
