// One РТМС server per test file: a fresh data directory and a fresh database
// (SQLite in that directory, or a new PostgreSQL database), the demo region,
// a free port chosen by the OS.
import { spawn, execFile } from "node:child_process";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { config, ARTIFACTS } from "./config.mjs";

const run = promisify(execFile);

async function psql(url, sql) {
  await run("psql", [url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql], { timeout: 30_000 });
}

/**
 * Starts `rtms serve --demo` and resolves when it answers /readyz.
 * @param {string} name a label for the log file (the test file's name)
 * @param {{ sharing?: object }} opts `sharing`: a running server whose
 *   PostgreSQL database this one uses too (a second instance of one region)
 */
export async function startServer(name, { sharing = null } = {}) {
  if (!fs.existsSync(config.bin)) {
    throw new Error(`no rtms binary at ${config.bin}: run \`cargo build -p rtms\` or set RTMS_BIN`);
  }
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `rtms-e2e-${name}-`));
  const args = ["serve", "--demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir];
  let pgDb = null;
  if (sharing) {
    if (!sharing.pgDb) throw new Error("only instances on PostgreSQL share a database");
    const u = new URL(config.pgUrl);
    u.pathname = "/" + sharing.pgDb;
    args.push("--database-url", u.toString());
  } else if (config.db === "postgres") {
    pgDb = `rtms_e2e_${name.replace(/\W/g, "_")}_${randomBytes(4).toString("hex")}`;
    await psql(config.pgUrl, `CREATE DATABASE ${pgDb}`);
    const u = new URL(config.pgUrl);
    u.pathname = "/" + pgDb;
    args.push("--database-url", u.toString());
  }
  const logPath = path.join(ARTIFACTS, `${name}${sharing ? ".second" : ""}.server.log`);
  const log = fs.createWriteStream(logPath);
  const child = spawn(config.bin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_COLOR: "1", RUST_LOG: process.env.RUST_LOG || "info" },
  });
  child.stderr.pipe(log, { end: false });
  let exited = null;
  const exit = new Promise((resolve) => child.once("exit", (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));

  const server = {
    url: null,
    dataDir,
    pgDb,
    logPath,
    child,
    async stop() {
      if (exited === null) {
        child.kill("SIGTERM");
        const t = setTimeout(() => { if (exited === null) child.kill("SIGKILL"); }, 5_000);
        await exit;
        clearTimeout(t);
      }
      log.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
      if (pgDb) await psql(config.pgUrl, `DROP DATABASE IF EXISTS ${pgDb} WITH (FORCE)`);
    },
  };

  try {
    server.url = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`rtms did not start in 60 s; see ${logPath}`)), 60_000);
      child.stdout.on("data", (chunk) => {
        log.write(chunk);
        out += chunk.toString();
        const m = out.match(/РТМС: (http:\/\/[\d.:]+)/);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
      exit.then((e) => { clearTimeout(timer); reject(new Error(`rtms exited (${JSON.stringify(e)}) before serving; see ${logPath}`)); });
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        const r = await fetch(server.url + "/readyz");
        if (r.status === 200) break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`/readyz did not answer 200 in 30 s; see ${logPath}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await server.stop().catch(() => {});
    throw e;
  }
  return server;
}
