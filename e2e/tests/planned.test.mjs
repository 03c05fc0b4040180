// A planned consultation from the first click to the close-out, through the
// browser only, with three people working at once: the district doctor, the
// КТЦ dispatcher and the ТКЦ consultant.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { signIn } from "../lib/browser.mjs";
import { expectText, expectVisible, expectValue, expectHidden } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, createDraft, fillRequest, pickIcd, expectStatus,
  act, actWithForm, postMessage, markNoReload, queueRow, navigating,
} from "../lib/flows.mjs";

const w = world("planned");

test("a planned cardiology consultation goes from draft to «Закрыт» through the UI", async (t) => {
  const step = w.steps(t);
  let doctor, dispatcher, consultant, d, q, c, id, dispatcherQueueUntouched;
  const question = "Есть ли данные ЭхоКГ: фракция выброса, зоны акинезии?";
  const answer = "ЭхоКГ 07.11: ФВ 42 %, акинезия передней стенки и верхушки.";
  const findings = "Постинфарктное ремоделирование ЛЖ, ФВ 42 %. Показана коронарография.";
  const recommendations = "Перевод в ОКБ для коронарографии и ЧКВ в плановом порядке; продолжить ДАТТ.";

  await step("doctor, dispatcher and consultant sign in and see their queues", async () => {
    doctor = await w.person("doctor", { signIn: false });
    d = doctor.page;
    await d.goto("/login");
    await expectText(d.locator("h1"), "Вход в систему");
    await w.shot(d, "01-login");
    await signIn(d, "doctor");
    dispatcher = await w.person("dispatcher");
    q = dispatcher.page;
    consultant = await w.person("consultant");
    c = consultant.page;
    for (const [p, heading] of [
      [doctor, "Запросы моей организации"],
      [dispatcher, "Очередь запросов региона"],
      [consultant, "Запросы, назначенные мне"],
    ]) {
      assert.equal(new URL(p.page.url()).pathname, "/queue", `${p.who} lands on the queue`);
      await expectText(p.page.locator("main h1"), heading, { message: `${p.who}'s queue heading` });
      await w.shot(p.page, `02-queue-${p.who}`);
    }
    // The dispatcher starts from the open requests.
    await expectValue(q.locator("#queue-filters select[name=status]"), "open");
    dispatcherQueueUntouched = await markNoReload(q);
  });

  await step("the doctor fills in a new request (МКБ-10 by words, the profile's hint)", async () => {
    id = await createDraft(d);
    await expectText(d.locator("main h1"), `№ ${id}`);
    await expectText(d.locator(".page-head .status"), STATUS.draft);
    await expectHidden(d.locator("#profile-hint"), { message: "no profile, no hint" });
    await fillRequest(d, plannedRequest());
    // The profile tells the doctor what a good cardiology request includes.
    await expectVisible(d.locator("#profile-hint"), { message: "the cardiology hint" });
    await expectText(d.locator("#profile-hint"), "ЭКГ", { message: "the cardiology hint asks for an ECG" });
    await pickIcd(d, "инфаркт", "I21.0");
    await expectText(d.locator("#save-status"), /Сохранено/, { message: "autosave reports itself" });
    await w.shot(d, "03-new-request-form");
  });

  await step("the doctor sends it: «Направлен»", async () => {
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}`, "after sending, the request page");
    await expectStatus(d, STATUS.submitted);
    await expectText(d.locator("main h1"), "Ковалёв Игорь Петрович");
    await expectText(d.locator("main"), "I21.0");
    await w.shot(d, "04-request-submitted-doctor");
  });

  await step("the dispatcher's open queue shows the new request without a reload", async () => {
    const row = queueRow(q, id);
    await expectVisible(row, { message: `request № ${id} appears in the dispatcher's open queue by itself` });
    await dispatcherQueueUntouched();
    await expectText(row, "Ковалёв Игорь Петрович");
    await expectText(row, STATUS.submitted);
    await expectText(row, "Плановая");
    await w.shot(q, "05-queue-dispatcher-new-row");
  }, { soft: true });

  await step("the dispatcher takes the request and assigns it to Смирнов А. В.", async () => {
    if (!(await queueRow(q, id).isVisible())) await q.reload(); // the previous step has reported it
    await navigating(q, () => queueRow(q, id).locator("a.patient").click());
    assert.equal(new URL(q.url()).pathname, `/requests/${id}`);
    await expectStatus(q, STATUS.submitted);
    await act(q, "take");
    await expectStatus(q, STATUS.in_review);
    await w.shot(q, "06-request-in-review-dispatcher");
    await actWithForm(q, "assign", async (form) => {
      const consultantSelect = form.locator("select[name=consultant_id]");
      const options = await consultantSelect.locator("option").allInnerTexts();
      const smirnov = options.find((o) => o.includes("Смирнов"));
      assert.ok(smirnov, `Смирнов А. В. is offered for cardiology: ${options.join(" | ")}`);
      await consultantSelect.selectOption({ label: smirnov });
    });
    await expectStatus(q, STATUS.assigned);
    await expectText(q.locator("aside"), "Смирнов", { message: "the consultant is named on the request" });
    await w.shot(q, "07-request-assigned-dispatcher");
  });

  await step("the consultant is told at once, accepts, starts and asks a question", async () => {
    await expectVisible(c.locator("#notif-count"), { message: "the consultant's bell shows the assignment" });
    await expectText(c.locator("#live-banner"), `№ ${id}`, { message: "the consultant's live banner" });
    await navigating(c, () => c.locator(`#live-banner a[href="/requests/${id}"]`).click());
    await expectStatus(c, STATUS.assigned);
    await act(c, "accept");
    await expectStatus(c, STATUS.accepted);
    await act(c, "start");
    await expectStatus(c, STATUS.in_progress);
    await postMessage(c, question);
    await w.shot(c, "08-request-in-progress-consultant-question");
  });

  await step("the doctor is told of the question and answers it", async () => {
    await expectText(d.locator("#live-banner"), "Вопрос консультанта", { message: "the doctor hears of the question" });
    await d.goto(`/requests/${id}`);
    await expectStatus(d, STATUS.in_progress);
    await expectText(d.locator("#thread"), question);
    await postMessage(d, answer);
    await w.shot(d, "09-request-in-progress-doctor-answer");
  });

  await step("the consultant reads the answer, writes and signs the conclusion", async () => {
    await expectText(c.locator("#live-banner"), "Ответ врача", { message: "the consultant hears of the answer" });
    await c.goto(`/requests/${id}`);
    await expectText(c.locator("#thread"), answer);
    const cf = c.locator("#conclusion-form");
    await expectVisible(cf, { message: "the conclusion form" });
    await expectValue(cf.locator("[name=diagnosis_main]"), "I21.0", { message: "the doctor's diagnosis proposed" });
    await cf.locator("[name=findings]").fill(findings);
    await cf.locator("[name=recommendations]").fill(recommendations);
    await cf.locator("[name=patient_condition]").selectOption("2");
    await navigating(c, () => cf.locator("button[name=intent][value=sign]").click());
    await expectStatus(c, STATUS.completed);
    await expectText(c.locator("#semd"), "сформирован", { message: "the СЭМД is built at signing" });
    await expectVisible(c.locator("section#conclusion.signed"), { message: "the signed conclusion" });
    await expectHidden(c.locator("#conclusion-form"), { message: "a signed conclusion is not editable" });
    await w.shot(c, "10-conclusion-signed-consultant");
    // The СЭМД's print form: the Ministry's XSLT applied by the browser to the
    // stored document (in a tab of its own: Chromium adds a notice of its own
    // about XSLT there, which our policy keeps from running script).
    const print = await consultant.context.newPage();
    await print.goto(`/requests/${id}/semd`);
    await expectText(print.locator("body"), "Протокол консультации от", { message: "the print form is rendered" });
    await expectText(print.locator("body"), findings, { message: "the print form shows the findings" });
    await w.shot(print, "10b-semd-print-form");
    await print.close();
  });

  await step("the doctor reads the signed conclusion", async () => {
    await expectText(d.locator("#live-banner"), "Заключение готово", { message: "the doctor hears the conclusion is ready" });
    await navigating(d, () => d.locator(`#live-banner a[href="/requests/${id}"]`).click());
    await expectStatus(d, STATUS.completed);
    const concl = d.locator("section#conclusion.signed");
    await expectText(concl, findings, { message: "the doctor reads the findings" });
    await expectText(concl, recommendations, { message: "the doctor reads the recommendations" });
    await expectText(concl, "I21.0");
    await expectText(concl, /Подписано:.*Смирнов/, { message: "who signed" });
    await w.shot(d, "11-conclusion-signed-doctor");
  });

  await step("the doctor acknowledges with the close-out answers: «Закрыт»", async () => {
    await actWithForm(d, "acknowledge", async (form) => {
      await form.locator("input[name=useful][value=yes]").check();
      await form.locator("select[name=effect]").selectOption("treatment_adjusted");
    });
    await expectStatus(d, STATUS.closed);
    await expectText(d.locator("section#conclusion.signed"), findings, { message: "the conclusion stays readable" });
    await expectHidden(d.locator("#actions [data-action]"), { message: "nothing left to do" });
    await w.shot(d, "12-request-closed-doctor");
    // Closed is not open: the request has left the dispatcher's open queue.
    await q.goto("/queue");
    await expectText(q.locator("#queue-rows"), "Найдено");
    await expectHidden(queueRow(q, id), { message: "a closed request leaves the open queue" });
  });

  await step.finish();
});
