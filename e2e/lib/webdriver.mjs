// Firefox ESR and WebKit (the engine Safari uses) driven by classic W3C
// WebDriver: geckodriver and WebKitWebDriver, one driver process and one
// browser per person. The pages it hands out speak the small part of
// playwright's Page/Locator interface that lib/flows.mjs and lib/wait.mjs
// use, so the same flows run in every engine.
//
// Locators are chains of CSS selectors resolved inside the page (so `:has()`
// and nesting behave as in the browser itself); clicks, typing and file
// picking go through WebDriver's element commands, as a user's input would.
import { spawn } from "node:child_process";
import net from "node:net";
import fs from "node:fs";
import path from "node:path";
import { config, ARTIFACTS } from "./config.mjs";
import { VIEWPORT } from "./browser.mjs";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export const ENGINES = {
  firefox: {
    label: "Firefox ESR",
    driver: process.env.GECKODRIVER || "geckodriver",
    args: (port) => ["--port", String(port), "--log", "error"],
    needsDisplay: false,
    capabilities: ({ fakeMedia }) => ({
      browserName: "firefox",
      "moz:firefoxOptions": {
        binary: process.env.FIREFOX || "/usr/bin/firefox-esr",
        args: ["-headless"],
        prefs: {
          "intl.accept_languages": "ru-RU, ru",
          "media.navigator.streams.fake": Boolean(fakeMedia),
          "media.navigator.permission.disabled": Boolean(fakeMedia),
          "media.autoplay.default": 0,
          "media.peerconnection.ice.loopback": true,
        },
      },
    }),
  },
  webkit: {
    label: "WebKit",
    driver: process.env.WEBKITWEBDRIVER || "WebKitWebDriver",
    args: (port) => [`--port=${port}`],
    needsDisplay: true,
    languageCookie: true,
    capabilities: () => ({
      browserName: "MiniBrowser",
      "webkitgtk:browserOptions": {
        binary: process.env.MINIBROWSER || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser",
        args: ["--automation"],
      },
    }),
  },
};

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** An X server of our own for the engines that need a display (Xvfb). */
async function startXvfb() {
  const child = spawn("Xvfb", ["-displayfd", "3", "-screen", "0", "1400x1000x24", "-nolisten", "tcp"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stderr.on("data", (d) => { err += d; });
  const display = await new Promise((resolve, reject) => {
    let out = "";
    child.stdio[3].on("data", (d) => {
      out += d;
      if (out.includes("\n")) resolve(`:${out.trim()}`);
    });
    child.once("exit", (code) => reject(new Error(`Xvfb exited (${code}): ${err}`)));
    setTimeout(() => reject(new Error(`Xvfb gave no display in 20 s: ${err}`)), 20_000);
  });
  return { display, stop: () => child.kill("SIGTERM") };
}

class WebDriverError extends Error {}

/** One WebDriver session: a driver process and its browser. */
class Session {
  constructor(base, id, child) {
    this.base = base;
    this.id = id;
    this.child = child;
  }

  async cmd(method, route, body) {
    const resp = await fetch(`${this.base}/session/${this.id}${route}`, {
      method,
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await resp.json().catch(() => ({ value: null }));
    if (!resp.ok) {
      const v = json.value || {};
      throw new WebDriverError(`${method} ${route}: ${v.error || resp.status}: ${v.message || ""}`.trim());
    }
    return json.value;
  }

  /** Runs `body` (a function body; `arguments` as given) in the page. */
  exec(body, args = []) {
    return this.cmd("POST", "/execute/sync", { script: body, args });
  }

  async quit() {
    await this.cmd("DELETE", "").catch(() => {});
    this.child.kill("SIGTERM");
  }
}

async function startSession(engine, { display, fakeMedia = false } = {}) {
  const e = ENGINES[engine];
  const port = await freePort();
  const env = { ...process.env, TZ: "Europe/Moscow", LANG: "ru_RU.UTF-8", LANGUAGE: "ru_RU:ru" };
  if (display) env.DISPLAY = display;
  const child = spawn(e.driver, e.args(port), { stdio: ["ignore", "ignore", "pipe"], env });
  let err = "";
  child.stderr.on("data", (d) => { err = (err + d).slice(-4000); });
  let exited = null;
  child.once("exit", (code) => { exited = code; });
  child.once("error", (e2) => { exited = e2.message; });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited !== null) throw new Error(`${e.driver} exited (${exited}): ${err}`);
    try {
      const r = await fetch(`${base}/status`);
      if (r.ok) break;
    } catch {}
    if (Date.now() > deadline) throw new Error(`${e.driver} did not answer in 30 s: ${err}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const resp = await fetch(`${base}/session`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ capabilities: { alwaysMatch: e.capabilities({ fakeMedia }) } }),
  });
  const json = await resp.json();
  if (!resp.ok) {
    child.kill("SIGTERM");
    throw new Error(`${e.label}: no session: ${JSON.stringify(json.value)} ${err}`);
  }
  const s = new Session(base, json.value.sessionId, child);
  s.capabilities = json.value.capabilities;
  await s.cmd("POST", "/timeouts", { script: 30_000, pageLoad: config.timeout * 3, implicit: 0 });
  await s.cmd("POST", "/window/rect", { width: VIEWPORT.width, height: VIEWPORT.height }).catch(() => {});
  return s;
}

// In-page helper: the elements a chain of steps names.
const RESOLVE = `
  function resolve(chain) {
    let els = [document];
    for (const s of chain) {
      if (s.css !== undefined) {
        const next = [];
        for (const e of els) for (const x of e.querySelectorAll(s.css)) if (!next.includes(x)) next.push(x);
        els = next;
      } else {
        const i = s.nth < 0 ? els.length + s.nth : s.nth;
        els = els[i] ? [els[i]] : [];
      }
    }
    return els;
  }
  function visible(el) {
    if (!el.isConnected) return false;
    if (el.checkVisibility) return el.checkVisibility({ visibilityProperty: true }) && el.getClientRects().length > 0;
    const st = getComputedStyle(el);
    return st.visibility !== "hidden" && el.getClientRects().length > 0;
  }
`;

const fnSource = (fn) => (typeof fn === "function" ? fn.toString() : `() => (${fn})`);

class Locator {
  constructor(page, chain) {
    this.page = page;
    this.chain = chain;
  }

  toString() {
    return `locator(${this.chain.map((s) => (s.css !== undefined ? s.css : `[${s.nth}]`)).join(" >> ")})`;
  }

  locator(css) { return new Locator(this.page, [...this.chain, { css }]); }
  first() { return new Locator(this.page, [...this.chain, { nth: 0 }]); }
  last() { return new Locator(this.page, [...this.chain, { nth: -1 }]); }
  nth(i) { return new Locator(this.page, [...this.chain, { nth: i }]); }

  /** Runs `fn(element, arg)` on the first match; throws when nothing matches. */
  async evaluate(fn, arg) {
    const r = await this.page.s.exec(
      `${RESOLVE}
       const el = resolve(arguments[0])[0];
       if (!el) return { missing: true };
       return { value: (${fnSource(fn)})(el, arguments[1]) };`,
      [this.chain, arg === undefined ? null : arg],
    );
    if (r.missing) throw new Error(`${this} matches nothing`);
    return r.value;
  }

  async count() {
    return this.page.s.exec(`${RESOLVE} return resolve(arguments[0]).length;`, [this.chain]);
  }

  async isVisible() {
    return this.page.s.exec(`${RESOLVE} const el = resolve(arguments[0])[0]; return !!el && visible(el);`, [this.chain]);
  }

  async waitFor({ state = "visible", timeout = config.timeout } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const v = await this.isVisible().catch(() => false);
      if ((state === "visible") === v) return;
      if (state === "attached" && (await this.count().catch(() => 0)) > 0) return;
      if (Date.now() > deadline) throw new Error(`${this} did not become ${state} in ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  innerText() { return this.evaluate((e) => e.innerText); }
  textContent() { return this.evaluate((e) => e.textContent); }
  inputValue() { return this.evaluate((e) => e.value); }
  isChecked() { return this.evaluate((e) => e.checked); }
  getAttribute(name) { return this.evaluate((e, n) => e.getAttribute(n), name); }

  async allInnerTexts() {
    return this.page.s.exec(`${RESOLVE} return resolve(arguments[0]).map((e) => e.innerText);`, [this.chain]);
  }

  /** The WebDriver reference of the first match, scrolled to the middle of the screen. */
  async element({ timeout = config.timeout, visible = true } = {}) {
    if (visible) await this.waitFor({ state: "visible", timeout });
    const deadline = Date.now() + timeout;
    for (;;) {
      const ref = await this.page.s.exec(
        `${RESOLVE}
         const el = resolve(arguments[0])[0];
         if (el && arguments[1]) el.scrollIntoView({ block: "center", inline: "center" });
         return el || null;`,
        [this.chain, visible],
      );
      if (ref) return ref[ELEMENT];
      if (Date.now() > deadline) throw new Error(`${this} matches nothing`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async click() {
    const id = await this.element();
    await this.page.s.cmd("POST", `/element/${id}/click`, {});
  }

  async fill(text) {
    const id = await this.element();
    await this.page.s.cmd("POST", `/element/${id}/clear`, {});
    if (text !== "") await this.page.s.cmd("POST", `/element/${id}/value`, { text: String(text) });
  }

  async pressSequentially(text, { delay = 0 } = {}) {
    const id = await this.element();
    for (const ch of String(text)) {
      await this.page.s.cmd("POST", `/element/${id}/value`, { text: ch });
      if (delay) await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** Picks an option as a user would: by clicking it (by value, or `{label}` contained in its text). */
  async selectOption(which) {
    await this.element(); // the select itself in the middle of the screen
    const option = this.locator("option").nth(
      await this.evaluate((sel, w) => {
        const opts = [...sel.options];
        const i = typeof w === "string" ? opts.findIndex((o) => o.value === w) : opts.findIndex((o) => o.text.includes(w.label));
        return i;
      }, which),
    );
    if ((await option.count()) === 0) throw new Error(`${this}: no option ${JSON.stringify(which)}`);
    const id = await option.element({ visible: false });
    await this.page.s.cmd("POST", `/element/${id}/click`, {});
  }

  async setChecked(on) {
    if ((await this.isChecked()) !== Boolean(on)) await this.click();
  }

  check() { return this.setChecked(true); }

  /** Picks files in an `<input type=file>` (hidden ones too, as WebDriver allows). */
  async setInputFiles(files) {
    const list = (Array.isArray(files) ? files : [files]).map((f) => path.resolve(f));
    const id = await this.element({ visible: false });
    await this.page.s.cmd("POST", `/element/${id}/value`, { text: list.join("\n") });
  }
}

/** A person's only page, with the playwright-like methods the flows use. */
class Page {
  constructor(session, baseURL) {
    this.s = session;
    this.baseURL = baseURL;
    this.closed = false;
    this.lastUrl = baseURL;
  }

  locator(css) { return new Locator(this, [{ css }]); }

  async goto(where) {
    await this.s.cmd("POST", "/url", { url: new URL(where, this.baseURL).toString() });
    await this.settled();
  }

  async reload() {
    await this.s.cmd("POST", "/refresh", {});
    await this.settled();
  }

  url() { return this.lastUrl; }

  async currentUrl() {
    this.lastUrl = await this.s.cmd("GET", "/url");
    return this.lastUrl;
  }

  async evaluate(fn, arg) {
    return this.s.exec(`return (${fnSource(fn)})(arguments[0]);`, [arg === undefined ? null : arg]);
  }

  /** Waits until the document is loaded and the URL is known. */
  async settled(timeout = config.timeout * 2) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const state = await this.s.exec("return document.readyState;").catch(() => "loading");
      if (state === "complete") break;
      if (Date.now() > deadline) throw new Error(`the page did not finish loading in ${timeout} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.currentUrl();
  }

  /** Runs `action` (a click that leaves the page) and waits for the next page to load. */
  async navigating(action, timeout = config.timeout * 2) {
    const token = `n${Math.random().toString(36).slice(2)}`;
    await this.s.exec("window.__wdPage = arguments[0];", [token]);
    await action();
    const deadline = Date.now() + timeout;
    for (;;) {
      const now = await this.s
        .exec("return document.readyState === 'complete' ? (window.__wdPage || 'new') : null;")
        .catch(() => null);
      if (now && now !== token) break;
      if (Date.now() > deadline) throw new Error(`no new page loaded in ${timeout} ms after the action`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.currentUrl();
  }

  async waitForURL(want, { timeout = config.timeout * 2 } = {}) {
    const ok = (u) => (want instanceof RegExp ? want.test(u) : typeof want === "function" ? want(new URL(u)) : u === want);
    const deadline = Date.now() + timeout;
    for (;;) {
      const u = await this.currentUrl().catch(() => "about:blank");
      if (ok(u)) {
        await this.settled();
        return;
      }
      if (Date.now() > deadline) throw new Error(`the URL stayed ${u}, expected ${want}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  waitForTimeout(ms) { return new Promise((r) => setTimeout(r, ms)); }

  isClosed() { return this.closed; }

  async screenshot({ path: file }) {
    const png = await this.s.cmd("GET", "/screenshot");
    fs.writeFileSync(file, Buffer.from(png, "base64"));
  }
}

/**
 * One engine for a test file: `person(login)` gives a signed-in page in a
 * browser of its own. `close()` ends every session and the X server.
 */
export async function launchEngine(engine, server) {
  if (!ENGINES[engine]) throw new Error(`unknown engine ${engine}`);
  const xvfb = ENGINES[engine].needsDisplay ? await startXvfb() : null;
  const sessions = [];
  return {
    engine,
    label: ENGINES[engine].label,
    async open(who, opts = {}) {
      const s = await startSession(engine, { display: xvfb?.display, ...opts });
      sessions.push(s);
      const page = new Page(s, server.url);
      if (ENGINES[engine].languageCookie) {
        // This machine has no Russian locale for WebKitGTK to take its
        // Accept-Language from: the interface's own language switch (its
        // cookie) says Russian instead, as a user's click on «Русский» would.
        await page.goto("/login");
        await s.cmd("POST", "/cookie", { cookie: { name: "rtms_lang", value: "ru", path: "/" } });
      }
      return { who, page, session: s, capabilities: s.capabilities };
    },
    async shot(page, name) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
      await page.screenshot({ path: file });
      return file;
    },
    async close() {
      for (const s of sessions) await s.quit();
      xvfb?.stop();
    },
  };
}
