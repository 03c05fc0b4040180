// Keyboard and screen-reader basics on the main pages (issue 30, item 4):
// axe-core (npm, run inside the page) finds no serious or critical WCAG 2.1
// A/AA violation on the pages a doctor, a dispatcher and a consultant use;
// the sign-in form is walked with the Tab key in page order; a request form
// sent back with mistakes announces them (role="alert"), marks each wrong
// field (aria-invalid) and ties its message to it (aria-describedby), and
// the keyboard starts at the first wrong field.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import { world } from "../lib/harness.mjs";
import { createDraft, navigating, field } from "../lib/flows.mjs";
import { expectText } from "../lib/wait.mjs";

const w = world("a11y");
const AXE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * axe-core's serious and critical violations of WCAG 2.0/2.1 A and AA on the
 * page as it is now. The script goes in through the test's own channel
 * (DevTools protocol), so the page's CSP stays as strict as ever.
 */
async function violations(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
      resultTypes: ["violations"],
    }));
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 5).map((n) => n.target.join(" ")).join(", ")}`);
}

async function clean(page, label) {
  const found = await violations(page);
  assert.deepEqual(found, [], `${label} (${page.url()})`);
}

test("the main pages have no serious accessibility violations", () => w.run(async () => {
  const anon = await w.person("doctor", { signIn: false });
  await anon.page.goto("/login");
  await clean(anon.page, "sign-in");
  await anon.page.goto("/verify");
  await clean(anon.page, "document check");
  await w.dismiss(anon);

  const doctor = await w.person("doctor");
  const d = doctor.page;
  await clean(d, "doctor's queue");
  await createDraft(d);
  await clean(d, "a new request's form");
  await d.goto("/video");
  await clean(d, "video sessions");

  for (const who of ["dispatcher", "consultant"]) {
    const p = (await w.person(who)).page;
    await clean(p, `${who}'s queue`);
    const working = p.locator(".queue tr:has(.st-in_progress) a.patient").first();
    const any = p.locator(".queue a.patient").first();
    const link = (await working.count()) ? working : any;
    await navigating(p, () => link.click());
    await clean(p, `a request, as the ${who}`);
  }
}));

test("the sign-in form is walked with Tab in page order", () => w.run(async () => {
  const p = await w.person("doctor", { signIn: false });
  const page = p.page;
  await page.goto("/login");
  await page.locator("input[name=login]").focus();
  const order = [];
  for (let i = 0; i < 3; i++) {
    order.push(await page.evaluate(() => {
      const el = document.activeElement;
      return el.name || el.type || el.tagName;
    }));
    await page.keyboard.press("Tab");
  }
  assert.deepEqual(order, ["login", "password", "submit"]);
  // The whole form works from the keyboard.
  await page.locator("input[name=login]").focus();
  await page.keyboard.type("doctor");
  await page.keyboard.press("Tab");
  await page.keyboard.type("rtms-demo-password");
  await Promise.all([page.waitForURL((u) => u.pathname === "/queue"), page.keyboard.press("Enter")]);
}));

test("a form sent back with mistakes announces them and starts at the first wrong field", () => w.run(async () => {
  const p = await w.person("doctor");
  const d = p.page;
  await createDraft(d);
  await field(d, "patient.last_name").fill("Иванов");
  await field(d, "patient.snils").fill("123-456-789 00");
  await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
  await expectText(d.locator('p.alert[role="alert"]'), "отмечены ниже");
  const wrong = await d.evaluate(() => [...document.querySelectorAll('form#request-form [aria-invalid="true"]')].map((el) => {
    const note = document.getElementById(el.getAttribute("aria-describedby") || "");
    return { name: el.name, message: note ? note.textContent.trim() : null };
  }));
  assert.ok(wrong.length >= 1, `fields marked wrong: ${JSON.stringify(wrong)}`);
  for (const f of wrong) assert.ok(f.message, `${f.name}: its message is tied to it`);
  assert.ok(wrong.some((f) => f.name === "patient.snils" && /СНИЛС/.test(f.message)), JSON.stringify(wrong));
  const focused = await d.evaluate(() => document.activeElement.name);
  assert.equal(focused, wrong[0].name, "the keyboard starts at the first wrong field");
  await w.shot(d, "errors");
  await clean(d, "the form with its mistakes");
}));
