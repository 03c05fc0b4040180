// Back and forth on the request form: the dispatcher returns a request for
// revision with a comment, the doctor fixes it and sends it again; and bad input
// gets clear messages next to the fields while nothing the doctor typed is lost.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { expectText, expectVisible, expectValue, expectHidden } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, createDraft, fillRequest, readRequest, field, fieldBox,
  expectStatus, act, actWithForm, navigating,
} from "../lib/flows.mjs";

const w = world("revision");

test("returned for revision with a comment, corrected and sent again", async (t) => {
  const step = w.steps(t);
  let d, q, id;
  const comment = "Уточните дату и время ЭКГ и приложите данные ЭхоКГ.";
  const newQuestion = "Просим определить тактику. ЭКГ 06.11 в 14:20; ЭхоКГ 07.11: ФВ 45 %.";

  await step("the doctor sends a planned request", async () => {
    d = (await w.person("doctor")).page;
    q = (await w.person("dispatcher")).page;
    id = await createDraft(d);
    await fillRequest(d, plannedRequest({
      "patient.last_name": "Белова",
      "patient.first_name": "Анна",
      "patient.middle_name": "Сергеевна",
      "patient.sex": "female",
      "diagnosis.main": "I20.0",
      "diagnosis.text": "Нестабильная стенокардия",
    }));
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    await expectStatus(d, STATUS.submitted);
  });

  await step("the dispatcher takes it and returns it with a comment", async () => {
    await q.goto(`/requests/${id}`);
    await expectStatus(q, STATUS.submitted);
    await act(q, "take");
    await expectStatus(q, STATUS.in_review);
    await actWithForm(q, "return", async (form) => {
      await form.locator("textarea[name=comment]").fill(comment);
    });
    await expectStatus(q, STATUS.returned);
    await expectText(q.locator(".timeline"), comment, { message: "the comment is in the history" });
    await expectText(q.locator(".deadline-box"), "на паузе", { message: "the deadline is paused while returned" });
    await w.shot(q, "01-request-returned-dispatcher");
  });

  await step("the doctor is told, and sees the comment on the edit page", async () => {
    await expectText(d.locator("#live-banner"), "Возвращён на доработку", { message: "the doctor's live banner" });
    await navigating(d, () => d.locator(`#live-banner a[href="/requests/${id}"]`).click());
    await expectStatus(d, STATUS.returned);
    const edit = d.locator(`#actions a[href="/requests/${id}/edit"]`);
    await expectText(edit, "Заполнить и отправить");
    await navigating(d, () => edit.click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}/edit`);
    await expectText(d.locator(".alert.warn"), "Возвращён на доработку");
    await expectText(d.locator(".alert.warn"), comment, { message: "the dispatcher's comment on the form" });
    // What was sent is still there to be corrected.
    await expectValue(field(d, "patient.last_name"), "Белова");
    await expectValue(field(d, "diagnosis.main"), "I20.0");
    await w.shot(d, "02-edit-returned-doctor");
  });

  await step("the doctor changes the question and sends it again: «Направлен»", async () => {
    await field(d, "question").fill(newQuestion);
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}`);
    await expectStatus(d, STATUS.submitted);
    await expectText(d.locator("p.question"), newQuestion, { message: "the corrected question" });
    await expectText(d.locator(".deadline-box"), /осталось|просрочен/, { message: "the deadline is shown" });
    await expectHidden(d.locator(".deadline-box .countdown[data-paused]"), { message: "the deadline runs again" });
    await w.shot(d, "03-request-resubmitted-doctor");
  });

  await step("the dispatcher sees the corrected request back in «Направлен»", async () => {
    await q.goto(`/requests/${id}`);
    await expectStatus(q, STATUS.submitted);
    await expectText(q.locator("p.question"), newQuestion);
    await expectVisible(q.locator('#actions button[data-action="take"]'));
  });

  await step.finish();
});

test("a wrong СНИЛС and a future birth date: messages by the fields, nothing typed is lost", async (t) => {
  const step = w.steps(t);
  let d, id;
  const wrongSnils = "112-233-445 96"; // the check number of 112-233-445 is 95
  const futureBirth = "01.01.2099";
  const typed = plannedRequest({
    "patient.last_name": "Соловьёв",
    "patient.first_name": "Максим",
    "patient.middle_name": "Андреевич",
    "patient.birth_date": futureBirth,
    "patient.snils": wrongSnils,
    "patient.address": "Заречный район, пос. Сосновый, ул. Лесная, 12",
    "diagnosis.main": "I21.0",
    question: "Нужна ли коронарография в плановом порядке?",
    lab_results: "Тропонин I 12.11: 0,9 нг/мл.",
  });
  const names = Object.keys(typed);

  await step("the doctor types the form with two mistakes and tries to send it", async () => {
    const doctor = w.people.find((p) => p.who === "doctor") ?? (await w.person("doctor"));
    d = doctor.page;
    id = await createDraft(d);
    await fillRequest(d, typed);
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}/edit`, "still on the form");
    await expectText(d.locator(".page-head .status"), STATUS.draft, { message: "not sent" });
    await w.shot(d, "04-edit-validation-errors");
  });

  await step("the messages stand next to the СНИЛС and the birth date, in Russian", async () => {
    await expectText(d.locator(".alert[role=alert]"), /неверно|не заполнены/, { message: "the form's summary" });
    const snils = fieldBox(d, "patient.snils");
    await expectVisible(snils.locator(".field-error"), { message: "an error next to СНИЛС" });
    await expectText(snils.locator(".field-error"), /СНИЛС/);
    assert.ok(await snils.evaluate((e) => e.classList.contains("has-error")), "the СНИЛС field is marked");
    const birth = fieldBox(d, "patient.birth_date");
    await expectVisible(birth.locator(".field-error"), { message: "an error next to the birth date" });
    await expectText(birth.locator(".field-error"), /будущ/, { message: "the birth date may not be in the future" });
    assert.ok(await birth.evaluate((e) => e.classList.contains("has-error")), "the birth date field is marked");
    // Only these two are wrong.
    const marked = await d.locator("form#request-form .field.has-error").evaluateAll((els) =>
      els.map((e) => e.querySelector("[name]")?.getAttribute("name")).sort());
    assert.deepEqual(marked, ["patient.birth_date", "patient.snils"], "fields marked as wrong");
    const texts = await d.locator("form#request-form .field-error").allInnerTexts();
    for (const text of texts) assert.match(text, /[А-Яа-яЁё]/, `a Russian message: "${text}"`);
  });

  await step("every value typed is still in the form after the failed send", async () => {
    const shown = await readRequest(d, names);
    assert.deepEqual(shown, typed, "what the form shows after the failed send");
  });

  await step("after reloading the edit page the wrong СНИЛС is still shown as typed, nothing lost", async () => {
    await d.goto(`/requests/${id}/edit`);
    await expectValue(field(d, "patient.snils"), wrongSnils, { message: "the wrong СНИЛС as typed" });
    await expectValue(field(d, "patient.birth_date"), futureBirth, { message: "the future birth date as typed" });
    await expectVisible(fieldBox(d, "patient.snils").locator(".field-error"), {
      message: "the СНИЛС is still marked after the reload",
    });
    const shown = await readRequest(d, names);
    assert.deepEqual(shown, typed, "what the form shows after a reload");
    await w.shot(d, "05-edit-after-reload");
  });

  await step("corrected, it is sent: «Направлен»", async () => {
    await fillRequest(d, { "patient.snils": "112-233-445 95", "patient.birth_date": "01.01.1959" });
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}`);
    await expectStatus(d, STATUS.submitted);
    await expectText(d.locator(".request-head"), "112-233-445 95");
    await expectText(d.locator(".request-head"), "01.01.1959");
  });

  await step.finish();
});
