// An emergency request skips the dispatcher's check: the route table assigns it
// at once, and the people who must act hear of it live, with no reload.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { expectText, expectVisible, expectValue } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, createDraft, fillRequest, expectStatus, markNoReload, queueRow, navigating,
} from "../lib/flows.mjs";

const w = world("emergency");

async function badgeCount(page) {
  const badge = page.locator("#notif-count");
  if (!(await badge.isVisible())) return 0;
  return Number((await badge.innerText()).trim()) || 0;
}

test("an emergency request alerts the dispatcher and the on-duty consultant live", async (t) => {
  const step = w.steps(t);
  let doctor, dispatcher, consultant, d, q, c, id;
  let dispatcherUntouched, consultantUntouched, consultantBadgeBefore, dispatcherBadgeBefore;

  await step("the dispatcher and the on-duty consultant have their queues open", async () => {
    dispatcher = await w.person("dispatcher");
    q = dispatcher.page;
    consultant = await w.person("consultant");
    c = consultant.page;
    doctor = await w.person("doctor");
    d = doctor.page;
    await expectText(q.locator("main h1"), "Очередь запросов региона");
    await expectValue(q.locator("#queue-filters select[name=status]"), "open");
    await expectText(c.locator("main h1"), "Запросы, назначенные мне");
    // Nothing is announced yet.
    assert.ok(await q.locator("#live-banner").isHidden(), "no banner before anything happens");
    assert.ok(await c.locator("#live-banner").isHidden(), "no banner before anything happens");
    dispatcherBadgeBefore = await badgeCount(q);
    consultantBadgeBefore = await badgeCount(c);
    dispatcherUntouched = await markNoReload(q);
    consultantUntouched = await markNoReload(c);
  });

  await step("the doctor sends an emergency cardiology request: routed at once, «Назначен»", async () => {
    id = await createDraft(d);
    await fillRequest(d, plannedRequest({
      "patient.last_name": "Гаврилов",
      "patient.first_name": "Степан",
      "patient.middle_name": "Ильич",
      "patient.birth_date": "02.02.1949",
      "patient.snils": "",
      "patient.oms_policy": "",
      form_of_care: "emergency",
      mode: "realtime",
      patient_present: true,
      "diagnosis.main": "I21.1",
      "diagnosis.text": "Острый нижний инфаркт, кардиогенный шок?",
      question: "Экстренно: тромболизис или перевод на ЧКВ? Время от начала боли 2 часа.",
    }));
    await w.shot(d, "01-new-request-form-emergency");
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}`);
    await expectStatus(d, STATUS.assigned);
    await expectText(d.locator(".request-head .pill"), "Экстренная");
    await expectText(d.locator("aside"), "Смирнов", { message: "the on-duty consultant is assigned by the route" });
    await w.shot(d, "02-request-assigned-doctor");
  });

  await step("the dispatcher sees the emergency banner without a reload", async () => {
    const banner = q.locator("#live-banner.emergency");
    await expectVisible(banner, { message: "the dispatcher's emergency banner" });
    await expectText(banner, "Экстренный запрос");
    await expectText(banner, `№ ${id}`);
    await expectVisible(banner.locator(`a[href="/requests/${id}"]`));
    await expectText(q.locator("#notif-count"), String(dispatcherBadgeBefore + 1), { message: "the dispatcher's bell" });
    await dispatcherUntouched();
    await w.shot(q, "03-queue-dispatcher-emergency-banner");
  });

  await step("the dispatcher's open queue shows the emergency row without a reload", async () => {
    const row = queueRow(q, id);
    await expectVisible(row, { message: `emergency № ${id} appears in the dispatcher's open queue by itself` });
    await expectText(row, "Экстренная");
    await expectText(row, STATUS.assigned);
    await expectText(row, "Гаврилов Степан Ильич");
    await dispatcherUntouched();
    await w.shot(q, "04-queue-dispatcher-emergency-row");
  }, { soft: true });

  await step("the on-duty consultant gets the notification badge and the banner", async () => {
    await expectVisible(c.locator("#notif-count"), { message: "the consultant's bell badge" });
    await expectText(c.locator("#notif-count"), String(consultantBadgeBefore + 1), { message: "one more unread" });
    const banner = c.locator("#live-banner.emergency");
    await expectVisible(banner, { message: "the consultant's emergency banner" });
    await expectText(banner, `№ ${id}`);
    await consultantUntouched();
    // The bell lists it.
    await c.locator("#notif-menu summary").click();
    await expectText(c.locator("#notif-list"), `№ ${id}`, { message: "the notification list" });
    await expectText(c.locator(`#notif-list li:has(a[href="/requests/${id}"])`), "Экстренный запрос");
    await w.shot(c, "05-queue-consultant-emergency-notification");
  });

  await step("the consultant's own queue shows the emergency without a reload", async () => {
    const row = queueRow(c, id);
    await expectVisible(row, { message: `emergency № ${id} appears in «Запросы, назначенные мне» by itself` });
    await expectText(row, "Экстренная");
    await consultantUntouched();
  }, { soft: true });

  await step("the consultant opens it from the banner and can accept it", async () => {
    await c.keyboard.press("Escape");
    await navigating(c, () => c.locator(`#live-banner a[href="/requests/${id}"]`).click());
    await expectStatus(c, STATUS.assigned);
    await expectText(c.locator("main h1"), "Гаврилов Степан Ильич");
    await expectVisible(c.locator('#actions button[data-action="accept"]'));
    await w.shot(c, "06-request-assigned-consultant");
  });

  await step.finish();
});
