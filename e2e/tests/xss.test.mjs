// Stored XSS: script payloads typed into every free-text field are shown as
// text, never run, on every page that shows them (the request, the queue, the
// timeline, the thread, the conclusion, the auditor's journal).
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { expectText } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, createDraft, fillRequest, expectStatus, act, actWithForm, navigating, postMessage,
} from "../lib/flows.mjs";

const w = world("xss");

/** A payload per field, each with its own marker, so a dialog tells which field leaked. */
// Short enough for a name field (100 characters).
const payload = (tag) => `<img src=x onerror=alert('${tag}')><script>alert('${tag}')</script>`;

const FREE_TEXT = [
  "patient.last_name", "patient.first_name", "patient.middle_name", "patient.address",
  "diagnosis.text", "question", "anamnesis_morbi", "anamnesis_vitae", "epidemiological_history",
  "objective_status", "lab_results", "instrumental_results", "current_treatment", "previous_consultations",
  "consent_ground", "patient.description",
];

test("script in every free-text field stays inert for everyone who reads it", async (t) => {
  const step = w.steps(t);
  const dialogs = [];
  const watch = (p) => p.page.on("dialog", async (d) => { dialogs.push(`${p.who}: ${d.message()}`); await d.dismiss(); });
  let doctor, dispatcher, consultant, auditor, id;

  await step("the doctor fills every free-text field with script and submits", async () => {
    doctor = await w.person("doctor");
    dispatcher = await w.person("dispatcher");
    consultant = await w.person("consultant");
    auditor = await w.person("auditor");
    [doctor, dispatcher, consultant, auditor].forEach(watch);
    const d = doctor.page;
    id = await createDraft(d);
    const data = plannedRequest({ "diagnosis.main": "I21.0" });
    for (const f of FREE_TEXT) data[f] = payload(f);
    await fillRequest(d, data);
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    await expectStatus(d, STATUS.submitted);
    // The payload is on the page, as text.
    await expectText(d.locator("p.question"), "<script>alert('question')</script>");
  });

  await step("the dispatcher's queue, search and request page show it as text", async () => {
    const q = dispatcher.page;
    await q.goto("/queue?q=" + encodeURIComponent("<script>"));
    await q.goto("/queue");
    await expectText(q.locator(`table.queue tr[data-href="/requests/${id}"]`), "<script>alert('patient.last_name')");
    await q.goto(`/requests/${id}`);
    await expectText(q.locator(".request-head h1"), "<script>alert('patient.last_name')</script>");
    await act(q, "take");
    await actWithForm(q, "assign", async (form) => {
      await form.locator("select[name=consultant_id]").selectOption({ label: /Смирнов/ }).catch(async () => {
        const options = await form.locator("select[name=consultant_id] option").allTextContents();
        const smirnov = options.find((o) => o.includes("Смирнов"));
        await form.locator("select[name=consultant_id]").selectOption({ label: smirnov });
      });
    });
    await expectStatus(q, STATUS.assigned);
  });

  await step("the consultant writes script into the thread and the conclusion", async () => {
    const c = consultant.page;
    await c.goto(`/requests/${id}`);
    await act(c, "accept");
    await act(c, "start");
    await postMessage(c, payload("message"));
    const form = c.locator("#conclusion-form form");
    await form.locator("input[name=diagnosis_main]").fill("I21.0");
    await form.locator("textarea[name=findings]").fill(payload("findings"));
    await form.locator("textarea[name=recommendations]").fill(payload("recommendations"));
    await form.locator("input[name=transfer]").fill(payload("transfer"));
    await form.locator("select[name=patient_condition]").selectOption("3");
    await navigating(c, () => form.locator("button[name=intent][value=sign]").click());
    await expectStatus(c, STATUS.completed);
    await expectText(c.locator("section#conclusion"), "<script>alert('findings')</script>");
  });

  await step("the doctor reads the thread and the signed conclusion", async () => {
    const d = doctor.page;
    await d.goto(`/requests/${id}`);
    await expectText(d.locator("#thread"), "<script>alert('message')</script>");
    await expectText(d.locator("section#conclusion"), "<script>alert('recommendations')</script>");
    await d.locator("#notif-menu summary").click();
    await d.waitForTimeout(500);
  });

  await step("the auditor's journal keeps no search text, only its kind and length", async () => {
    // Search terms can be patients' names: the journal records what kind of
    // search it was and how long, never the words (issue 21, item 10).
    const a = auditor.page;
    await a.goto("/audit?object_type=consultation_list");
    await expectText(a.locator("table.audit"), "поиск по имени: 1 слово, 8 знаков");
    const journal = await a.locator("table.audit").innerText();
    assert.ok(!journal.includes("<script>"), "no search text in the journal");
    assert.ok(!journal.includes("alert("), "no search text in the journal");
  });

  await step("no dialog fired anywhere", async () => {
    // Give any deferred handler (onerror, onload) its chance.
    await Promise.all([doctor, dispatcher, consultant, auditor].map((p) => p.page.waitForTimeout(300)));
    assert.deepEqual(dialogs, [], "a payload ran as script");
  });

  await step.finish();
});
