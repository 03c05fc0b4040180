// Chromium (Debian's) driven by playwright-core: one browser per test file,
// one context per person, so that several people work at once.
import { chromium } from "playwright-core";
import fs from "node:fs";
import path from "node:path";
import { config, ARTIFACTS, DEMO_PASSWORD } from "./config.mjs";

export const VIEWPORT = { width: 1366, height: 768 };

export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: config.chromium,
    headless: !config.headed,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      ...extraArgs,
    ],
  });
}

/**
 * A browser context for one person: its own cookies, its own page.
 * `problems` collects what a user would not see but a tester should: uncaught
 * script errors and content-security-policy refusals.
 */
export async function newPerson(browser, server, who, { lang = "ru" } = {}) {
  const context = await browser.newContext({
    baseURL: server.url,
    viewport: VIEWPORT,
    locale: lang === "en" ? "en-US" : "ru-RU",
    timezoneId: "Europe/Moscow",
  });
  context.setDefaultTimeout(config.timeout);
  context.setDefaultNavigationTimeout(config.timeout * 2);
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(`${who}: script error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) {
      problems.push(`${who}: ${m.text()}`);
    }
  });
  return { who, context, page, problems };
}

/** Signs in through the login form; resolves on the page the server sends us to. */
export async function signIn(page, login, password = DEMO_PASSWORD) {
  await page.goto("/login");
  const form = page.locator('form[action="/login"]');
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill(password);
  await Promise.all([
    page.waitForURL((u) => !u.pathname.startsWith("/login")),
    form.locator("button[type=submit]").click(),
  ]);
}

/** A full-page screenshot under artifacts/<db>/<name>.png. */
export async function shot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  // A sticky header would otherwise be drawn in the middle of a scrolled page.
  await page.evaluate(() => window.scrollTo(0, 0)).catch(() => {});
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
