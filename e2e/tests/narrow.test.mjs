// Narrow screens (issue 30, item 3, in Chromium): every page a doctor and a
// consultant use fits a phone (390×844) and a tablet (768×1024) without
// scrolling sideways; on a phone the queue is a list of cards and the header's
// menus open within the screen. A screenshot of each page at each size goes to
// artifacts/<db>/narrow-<who>-<size>-<page>.png.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { createDraft, navigating } from "../lib/flows.mjs";
import { expectVisible } from "../lib/wait.mjs";

const w = world("narrow");

const SIZES = [
  { name: "phone", width: 390, height: 844 },
  { name: "tablet", width: 768, height: 1024 },
];

/** The page is no wider than the screen. */
async function fits(page, label) {
  const [wide, screen] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  assert.ok(wide <= screen, `${label}: the page is ${wide} px wide on a ${screen} px screen`);
}

/** Opens a header menu and checks that its panel is within the screen. */
async function menuFits(page, summary, panel, label) {
  await page.locator(summary).click();
  const box = await page.locator(panel).boundingBox();
  const { width } = page.viewportSize();
  assert.ok(box && box.x >= 0 && box.x + box.width <= width,
    `${label}: the menu spans ${box?.x}…${box && box.x + box.width} px on a ${width} px screen`);
  await page.locator(summary).click();
}

/** The pages a person uses: the queue, a request (in progress where there is one), video, account. */
async function pagesOf(page) {
  await navigating(page, () => page.goto("/queue"));
  const working = page.locator(".queue tr:has(.st-in_progress) a[href^='/requests/']").first();
  const any = page.locator(".queue a[href^='/requests/']").first();
  const request = (await working.count()) ? await working.getAttribute("href") : await any.getAttribute("href");
  assert.ok(request, "the queue lists a request");
  return [["queue", "/queue"], ["request", request], ["video", "/video"], ["password", "/password"], ["sessions", "/sessions"]];
}

async function checkAll(who, { draft = false } = {}) {
  const p = await w.person(who);
  const pages = await pagesOf(p.page);
  for (const size of SIZES) {
    await p.page.setViewportSize({ width: size.width, height: size.height });
    for (const [name, href] of pages) {
      await navigating(p.page, () => p.page.goto(href));
      await fits(p.page, `${who}, ${size.name}, ${href}`);
      await w.shot(p.page, `${who}-${size.name}-${name}`);
    }
    await navigating(p.page, () => p.page.goto("/queue"));
    if (size.name === "phone") {
      // Cards: no column headings, each request a block of its own.
      await expectVisible(p.page.locator(".queue tbody tr").first());
      assert.equal(await p.page.locator(".queue thead").isVisible(), false, "the queue is cards on a phone");
    }
    await menuFits(p.page, "#notif-menu summary", "#notif-list", `${who}, ${size.name}, notifications`);
    await menuFits(p.page, "details.menu.user summary", "details.menu.user .menu-panel", `${who}, ${size.name}, account menu`);
    if (draft) {
      await createDraft(p.page);
      await fits(p.page, `${who}, ${size.name}, a new request's form`);
      await w.shot(p.page, `${who}-${size.name}-new-request`);
    }
  }
}

test("a doctor's pages fit a phone and a tablet", () => w.run(() => checkAll("doctor", { draft: true })));

test("a consultant's pages fit a phone and a tablet", () => w.run(() => checkAll("consultant")));
