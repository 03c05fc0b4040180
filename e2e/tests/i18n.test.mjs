// Russian first, English second: every page each demo role can reach, in both
// languages, has all its texts (no ⟦missing-key⟧), and the English pages have no
// Russian left in the interface itself. Patient data, names of people and
// organizations and МКБ-10 titles stay Russian on purpose and are not checked.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { signIn } from "../lib/browser.mjs";
import { expectText, expectVisible, eventually } from "../lib/wait.mjs";
import { createDraft, fillRequest, navigating, plannedRequest } from "../lib/flows.mjs";
import { checkPage } from "../lib/i18n.mjs";

const w = world("i18n");

const ROLES = [
  "doctor", "dispatcher", "coordinator", "consultant", "consultant2",
  "head", "doctor2", "analyst", "auditor", "admin",
];

/** Opens the bell's list (loaded by htmx) and checks its words too. */
async function checkNotifications(page, lang, label) {
  const problems = [];
  const at = `${label} [${lang}] notifications`;
  await page.locator("#notif-menu summary").click();
  const list = page.locator("#notif-list");
  await eventually(async () => {
    const text = await list.innerText();
    assert.ok(!/Загрузка|Loading/.test(text), "still loading");
  }, { message: `${at}: the list loads` });
  const html = await list.innerHTML();
  for (const key of html.match(/⟦[^⟧]*⟧/g) || []) problems.push(`${at}: missing message ${key}`);
  if (lang === "en") {
    // The kind of each notification and the list's own words; patient names follow the kind.
    const texts = await list.locator("li strong, :scope > p, :scope > button").allInnerTexts();
    for (const t of texts) if (/[\u0400-\u04FF]/.test(t)) problems.push(`${at}: Russian in the English list: "${t.trim()}"`);
  }
  await page.locator("#notif-menu summary").click();
  return problems;
}

test("the sign-in page in Russian and in English", () => w.run(async () => {
  for (const p of [...w.people]) await w.dismiss(p);
  const ru = await w.person("visitor-ru", { signIn: false });
  const p = ru.page;
  await p.goto("/login");
  await expectText(p.locator("h1"), "Вход в систему");
  const problems = await checkPage(p, "ru", "login");
  await w.shot(p, "login-ru");

  // The header's switch.
  await navigating(p, () => p.locator("header a.lang").click());
  assert.equal(new URL(p.url()).pathname, "/login", "the switch comes back to the same page");
  await expectText(p.locator("h1"), "Sign in");
  problems.push(...await checkPage(p, "en", "login"));
  await w.shot(p, "login-en");

  // A wrong password, told in English.
  await p.locator("input[name=login]").fill("doctor");
  await p.locator("input[name=password]").fill("not-the-password");
  await navigating(p, () => p.locator('form[action="/login"] button[type=submit]').click());
  await expectText(p.locator(".alert"), "Wrong login or password");
  problems.push(...await checkPage(p, "en", "login failed"));

  // A browser that prefers English gets English without asking.
  const en = await w.person("visitor-en", { signIn: false, lang: "en" });
  await en.page.goto("/login");
  await expectText(en.page.locator("h1"), "Sign in");
  problems.push(...await checkPage(en.page, "en", "login (browser in English)"));

  assert.deepEqual(problems, [], "language problems on the sign-in page");
}, { label: "login" }));

/** Links not to follow: downloads (CSV, XLSX, PDF, calendar feeds, files), the language switch, sign-out, static files. */
const SKIP = /\.(csv|xlsx|pdf)(\?|#|$)|^\/lang\/|^\/logout|^\/static\/|^\/ics\/|^\/api\//;

/** A page's kind: its path with numbers as {n}, and the names of its query parameters. */
function shapeOf(pathAndQuery) {
  const u = new URL(pathAndQuery, "http://x");
  const keys = [...new Set(u.searchParams.keys())].sort();
  return u.pathname.replace(/\d+/g, "{n}") + (keys.length ? "?" + keys.join("&") : "");
}

/** Pages whose h1 is somebody's name rather than interface text. */
const H1_IS_DATA = /^\/(requests|admin\/users)\/\{n\}$/;

/**
 * Every kind of page the signed-in person can reach by following links from where
 * they land: the header, the menus, the sub-navigation and the links in the pages
 * (one page of each kind), plus one request page for each status they can see.
 */
async function reachablePages(page, limit = 40) {
  const found = new Map();
  const todo = [new URL(page.url()).pathname + new URL(page.url()).search];
  while (todo.length && found.size < limit) {
    const next = todo.shift();
    if (found.has(shapeOf(next))) continue;
    const resp = await page.goto(next);
    if (!resp || !(resp.headers()["content-type"] || "").includes("text/html")) continue;
    const here = new URL(page.url());
    const path = here.pathname + here.search;
    const shape = shapeOf(path);
    if (found.has(shape)) continue;
    found.set(shape, { path, label: shape, h1IsData: H1_IS_DATA.test(shape) });
    const links = await page.locator("header a[href], main a[href]").evaluateAll((as) =>
      as.map((a) => a.getAttribute("href")));
    for (const href of links) {
      if (!href || !href.startsWith("/") || href.startsWith("//") || SKIP.test(href)) continue;
      const u = new URL(href, "http://x");
      const target = u.pathname + u.search;
      if (!found.has(shapeOf(target)) && !todo.includes(target)) todo.push(target);
    }
    // Each status offers its own actions and forms: one request page per status.
    if (here.pathname === "/queue" && (await page.locator("table.queue").count())) {
      await page.goto("/queue?status=");
      const byStatus = await page.locator("table.queue tbody tr[data-href]").evaluateAll((rows) => {
        const seen = {};
        for (const r of rows) {
          const st = [...r.querySelector(".status").classList].find((c) => c.startsWith("st-"));
          if (st && !seen[st]) seen[st] = r.dataset.href;
        }
        return seen;
      });
      for (const [st, href] of Object.entries(byStatus)) {
        found.set(`${shapeOf(href)} (${st.slice(3)})`, { path: href, label: `request (${st.slice(3)})`, h1IsData: true });
        todo.push(`${href}/edit`); // a returned or draft request's form, if this person may edit it
      }
    }
  }
  // A request page found both by its status and by a link is checked once.
  return [...new Map([...found.values()].map((p) => [p.path, p])).values()];
}

for (const login of ROLES) {
  test(`${login}: every reachable page in Russian and in English`, (t) => w.run(async () => {
    for (const p of [...w.people]) await w.dismiss(p); // only this role's pages are photographed
    const person = await w.person(login, { signIn: false });
    const page = person.page;
    await signIn(page, login);
    await expectText(page.locator("header .brand"), "РТМС", { message: "Russian after sign-in" });

    // What this person can reach, found in Russian.
    const pages = await reachablePages(page);
    assert.ok(pages.length >= 2, `${login} reaches some pages: ${pages.map((p) => p.path).join(", ")}`);
    if (await page.locator('header form[action="/requests"] button').count()) {
      const id = await createDraft(page);
      pages.push({ path: `/requests/${id}/edit`, label: "new request form" });
      // A second draft, filled in and saved, shows its clinical data (vitals and all) on its page.
      const filled = await createDraft(page);
      await fillRequest(page, plannedRequest());
      await navigating(page, () => page.locator("button[name=intent][value=save]").click());
      await expectText(page.locator("#save-status"), "Черновик сохранён");
      pages.push({ path: `/requests/${filled}`, label: "request (filled draft)", h1IsData: true });
    }

    t.diagnostic(`${login} reaches: ${pages.map((p) => p.path).join(" ")}`);
    const problems = [];
    const landing = pages[0].path;
    for (const lang of ["ru", "en"]) {
      if (lang === "en") {
        await page.goto(landing);
        await navigating(page, () => page.locator("header a.lang").click());
        const back = new URL(page.url());
        assert.equal(back.pathname + back.search, landing, "the switch comes back to the same page");
        await expectText(page.locator("header .brand"), "RTMS", { message: "English after the switch" });
      }
      for (const pg of pages) {
        const resp = await page.goto(pg.path);
        assert.ok(resp.status() < 500, `${pg.path} answers ${resp.status()}`);
        await expectVisible(page.locator("main"));
        problems.push(...await checkPage(page, lang, `${login} ${pg.label}`, pg));
        if (pg === pages[0] || pg.label === "new request form") {
          const what = pg === pages[0] ? new URL(pg.path, "http://x").pathname.slice(1).replace(/\W+/g, "-") : "new-request-form";
          await w.shot(page, `${what}-${login}-${lang}`);
        }
      }
      if (await page.locator("#notif-menu").count()) {
        problems.push(...await checkNotifications(page, lang, login));
      }
    }
    assert.deepEqual(problems, [], `language problems for ${login}`);
  }, { label: login }));
}
