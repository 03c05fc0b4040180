// The doctor's main path in English, as a visiting English-speaking consultant
// and a doctor who prefers English would go through it: sign-in, a new request
// (a refused submission told in English, an English date typed the English
// way), the consultant's question and signed conclusion, the doctor's answer,
// reading and acknowledgement. Every page on the way is checked: <html lang>,
// no missing message, and no Russian in the interface (patient data, names and
// МКБ-10 titles stay Russian on purpose). The dispatcher works in Russian: the
// same request serves both languages at once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { signIn } from "../lib/browser.mjs";
import { expectText, expectVisible, expectValue, expectHidden, expectExactText } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, fillRequest, field, fieldBox, pickIcd, act, actWithForm,
  postMessage, navigating, requestId,
} from "../lib/flows.mjs";
import { checkPage } from "../lib/i18n.mjs";

const w = world("english");

/** Status labels as the English interface shows them (i18n/locales/en/kinds.ftl). */
const STATUS_EN = {
  draft: "Draft",
  submitted: "Submitted",
  in_review: "In review",
  assigned: "Assigned",
  accepted: "Accepted",
  in_progress: "In progress",
  completed: "Completed",
  closed: "Closed",
};

async function expectStatusEn(page, key) {
  await expectExactText(page.locator(".status.big"), STATUS_EN[key], { message: `status on ${page.url()}` });
}

/** Signs in from a browser that prefers English and makes sure the interface is English. */
async function englishPerson(login) {
  const person = await w.person(login, { signIn: false, lang: "en" });
  const page = person.page;
  await page.goto("/login");
  await expectText(page.locator("h1"), "Sign in");
  await signIn(page, login);
  if ((await page.locator("header .brand").innerText()).includes("РТМС")) {
    await navigating(page, () => page.locator("header a.lang").click());
  }
  await expectText(page.locator("header .brand"), "RTMS", { message: `${login} sees English` });
  return person;
}

test("the doctor's main path in English: no Russian in the interface, no raw key", async (t) => {
  const step = w.steps(t);
  const problems = [];
  const check = async (page, label, opts) => problems.push(...await checkPage(page, "en", label, opts));
  let doctor, dispatcher, consultant, d, q, c, id;
  const question = "Is there an echocardiogram: ejection fraction, akinetic zones?";
  const answer = "Echo 07.11: EF 42 %, anterior wall and apex akinesia.";
  const findings = "Post-infarction LV remodelling, EF 42 %. Coronary angiography is indicated.";

  await step("the doctor and the consultant sign in in English", async () => {
    doctor = await englishPerson("doctor");
    d = doctor.page;
    await expectText(d.locator("main h1"), "My organization's requests");
    await check(d, "doctor's queue");
    await w.shot(d, "01-queue-doctor");
    consultant = await englishPerson("consultant");
    c = consultant.page;
    await check(c, "consultant's queue");
    dispatcher = await w.person("dispatcher");
    q = dispatcher.page;
  });

  await step("a new request sent too early is refused in English, nothing typed is lost", async () => {
    const button = d.locator('header form[action="/requests"] button[type=submit]');
    await expectText(button, "New request");
    await Promise.all([d.waitForURL(/\/requests\/\d+\/edit$/), button.click()]);
    id = requestId(d);
    await expectText(d.locator("main h1"), `No. ${id}`);
    await field(d, "patient.last_name").fill("Ковалёв");
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    await expectText(d.locator(".alert"), "Some fields are wrong or missing");
    await expectText(fieldBox(d, "patient.first_name").locator(".field-error"), "This field is required");
    await expectValue(field(d, "patient.last_name"), "Ковалёв", { message: "what was typed is kept" });
    await check(d, "refused submission");
    await w.shot(d, "02-refused-submission");
  });

  await step("the doctor fills it in, the birth date typed the English way, and sends it", async () => {
    await fillRequest(d, plannedRequest({ "patient.birth_date": "14 May 1958" }));
    await pickIcd(d, "I21.0", "I21.0");
    await navigating(d, () => d.locator("button[name=intent][value=save]").click());
    await expectText(d.locator("#save-status"), "Draft saved");
    await expectHidden(fieldBox(d, "patient.birth_date").locator(".field-error"), { message: "the English date is understood" });
    await check(d, "filled form");
    await w.shot(d, "03-filled-form");
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}`);
    await expectStatusEn(d, "submitted");
    await expectText(d.locator("main"), "14 May 1958", { message: "the birth date in English" });
    await check(d, "submitted request", { h1IsData: true });
    await w.shot(d, "04-submitted");
  });

  await step("the dispatcher (in Russian) takes it and assigns the consultant", async () => {
    await q.goto(`/requests/${id}`);
    await expectExactText(q.locator(".status.big"), STATUS.submitted);
    await act(q, "take");
    await actWithForm(q, "assign", async (form) => {
      const select = form.locator("select[name=consultant_id]");
      const smirnov = (await select.locator("option").allInnerTexts()).find((o) => o.includes("Смирнов"));
      assert.ok(smirnov, "Смирнов is offered");
      await select.selectOption({ label: smirnov });
    });
    await expectExactText(q.locator(".status.big"), STATUS.assigned);
  });

  await step("the consultant accepts, starts and asks a question, in English", async () => {
    await c.goto(`/requests/${id}`);
    await expectStatusEn(c, "assigned");
    await check(c, "assigned request", { h1IsData: true });
    await act(c, "accept");
    await expectStatusEn(c, "accepted");
    await act(c, "start");
    await expectStatusEn(c, "in_progress");
    await postMessage(c, question);
    await check(c, "question asked", { h1IsData: true });
    await w.shot(c, "05-question");
  });

  await step("the doctor answers", async () => {
    await d.goto(`/requests/${id}`);
    await expectStatusEn(d, "in_progress");
    await expectText(d.locator("#thread"), question);
    await postMessage(d, answer);
    await check(d, "answered", { h1IsData: true });
  });

  await step("the consultant writes and signs the conclusion", async () => {
    await c.goto(`/requests/${id}`);
    const cf = c.locator("#conclusion-form");
    await expectVisible(cf, { message: "the conclusion form" });
    await check(c, "conclusion form", { h1IsData: true });
    await cf.locator("[name=findings]").fill(findings);
    await cf.locator("[name=recommendations]").fill("Transfer for coronary angiography.");
    await cf.locator("[name=patient_condition]").selectOption("2");
    await navigating(c, () => cf.locator("button[name=intent][value=sign]").click());
    await expectStatusEn(c, "completed");
    await check(c, "signed conclusion", { h1IsData: true });
    await w.shot(c, "06-signed");
  });

  await step("the doctor reads the conclusion and acknowledges it", async () => {
    await d.goto(`/requests/${id}`);
    await expectStatusEn(d, "completed");
    const concl = d.locator("section#conclusion.signed");
    await expectText(concl, findings);
    await expectText(concl, /Signed:.*Смирнов/, { message: "who signed, in English" });
    await check(d, "conclusion read", { h1IsData: true });
    await w.shot(d, "07-conclusion-doctor");
    await actWithForm(d, "acknowledge", async (form) => {
      await form.locator("input[name=useful][value=yes]").check();
      await form.locator("select[name=effect]").selectOption("treatment_adjusted");
    });
    await expectStatusEn(d, "closed");
    await check(d, "closed request", { h1IsData: true });
    await d.goto("/queue");
    await check(d, "queue after", {});
    await w.shot(d, "08-closed");
  });

  await step("no page on the way had Russian in its interface or a raw key", async () => {
    assert.deepEqual(problems, [], "language problems on the English path");
    w.checkPages();
  });

  await step.finish();
});
