// What people do in РТМС, step by step through the interface, and what they
// should then see. Selectors follow the templates in crates/web/templates/.
import assert from "node:assert/strict";
import { expectExactText, expectText, expectValue, expectVisible, expectHidden } from "./wait.mjs";

/** Status labels as the Russian interface shows them (domain/src/kinds.rs). */
export const STATUS = {
  draft: "Черновик",
  submitted: "Направлен",
  in_review: "На проверке у диспетчера",
  returned: "Возвращён на доработку",
  assigned: "Назначен",
  accepted: "Принят консультантом",
  in_progress: "Консультация идёт",
  completed: "Заключение готово",
  closed: "Закрыт",
};

/** A complete planned cardiology request, as a doctor would fill it in. */
export function plannedRequest(overrides = {}) {
  return {
    "patient.last_name": "Ковалёв",
    "patient.first_name": "Игорь",
    "patient.middle_name": "Петрович",
    "patient.birth_date": "14.05.1958",
    "patient.sex": "male",
    "patient.snils": "112-233-445 95",
    "patient.oms_policy": "7700112233445566",
    "patient.address": "Заречный район, с. Луговое, ул. Школьная, 4",
    form_of_care: "planned",
    mode: "deferred",
    profile: "cardiology",
    purpose: "treatment_tactics",
    "diagnosis.text": "Острый трансмуральный инфаркт передней стенки, 9-е сутки",
    question: "Просим определить тактику: показана ли реваскуляризация, коррекция терапии?",
    anamnesis_morbi: "Боли за грудиной с 05.11, госпитализирован в ЦРБ на 2-е сутки.",
    anamnesis_vitae: "Гипертоническая болезнь 15 лет, курит.",
    objective_status: "Состояние средней тяжести, тоны сердца приглушены.",
    "vitals.bp_systolic": "135",
    "vitals.bp_diastolic": "85",
    "vitals.heart_rate": "78",
    "vitals.spo2": "96",
    "vitals.temperature": "36,7",
    instrumental_results: "ЭКГ 06.11: подъём ST в V1–V4, патологический Q.",
    current_treatment: "Аспирин, клопидогрел, бисопролол, аторвастатин.",
    consent_given: true,
    contact_phone: "+7 900 123-45-67",
    ...overrides,
  };
}

/** The request page's id from the current URL. */
export function requestId(page) {
  const m = new URL(page.url()).pathname.match(/^\/requests\/(\d+)/);
  assert.ok(m, `not on a request page: ${page.url()}`);
  return Number(m[1]);
}

/** Runs `action` (a click that submits a form) and waits for the next page to load. */
export async function navigating(page, action) {
  // lib/webdriver.mjs's pages (Firefox, WebKit) know how to wait themselves.
  if (page.navigating) return page.navigating(action);
  await Promise.all([page.waitForEvent("load"), action()]);
}

/** "Новый запрос" in the header: a new draft, and its edit form. */
export async function createDraft(page) {
  const button = page.locator('header form[action="/requests"] button[type=submit]');
  await expectText(button, "Новый запрос");
  await navigating(page, () => button.click());
  await page.waitForURL(/\/requests\/\d+\/edit$/);
  await expectVisible(page.locator("form#request-form"));
  return requestId(page);
}

/** The form's control of a field, by its dotted name. */
export function field(page, name) {
  return page.locator(`form#request-form [name="${name}"]`);
}

/** The .field wrapper around a form control (where its error message goes). */
export function fieldBox(page, name) {
  return page.locator(`form#request-form .field:has([name="${name}"])`);
}

/** Types each value into its field as a user would (selects chosen, boxes ticked). */
export async function fillRequest(page, data) {
  for (const [name, value] of Object.entries(data)) {
    const el = field(page, name);
    const kind = await el.evaluate((e) => (e.tagName === "INPUT" ? e.type : e.tagName.toLowerCase()));
    if (kind === "select") await el.selectOption(value);
    else if (kind === "checkbox") await el.setChecked(Boolean(value));
    else await el.fill(value);
  }
}

/** Reads every field back: what the form shows now. */
export async function readRequest(page, names) {
  const out = {};
  for (const name of names) {
    const el = field(page, name);
    const kind = await el.evaluate((e) => (e.tagName === "INPUT" ? e.type : e.tagName.toLowerCase()));
    out[name] = kind === "checkbox" ? await el.isChecked() : await el.inputValue();
  }
  return out;
}

/** МКБ-10 by typing words and clicking one of the suggestions. */
export async function pickIcd(page, words, code) {
  const input = field(page, "diagnosis.main");
  await input.click();
  await input.fill("");
  await input.pressSequentially(words, { delay: 40 });
  const suggestion = page.locator(`#icd-suggest button[data-icd-code="${code}"]`);
  await expectVisible(suggestion, { message: `МКБ-10 suggestion ${code} for "${words}"` });
  await suggestion.click();
  await expectValue(input, code, { message: "the picked МКБ-10 code" });
  await expectHidden(page.locator("#icd-suggest button"), { message: "the suggestion list closes" });
}

/** The big status badge on the request page. */
export async function expectStatus(page, label) {
  await expectExactText(page.locator(".status.big"), label, { message: `status on ${page.url()}` });
}

/** A one-click action of the request page (take, accept, start…). */
export async function act(page, action) {
  const button = page.locator(`#actions button[data-action="${action}"]`);
  await expectVisible(button, { message: `action "${action}"` });
  await navigating(page, () => button.click());
}

/** An action with a small form: opens it, lets `fill` fill it in, sends it. */
export async function actWithForm(page, action, fill) {
  const summary = page.locator(`#actions summary[data-action="${action}"]`);
  await expectVisible(summary, { message: `action "${action}"` });
  await summary.click();
  const form = page.locator(`#actions details.action-form:has(summary[data-action="${action}"]) form`);
  await expectVisible(form);
  await fill(form);
  await navigating(page, () => form.locator("button[type=submit]").click());
}

/** Writes into the request's thread and waits for the message to show. */
export async function postMessage(page, text) {
  const box = page.locator("#thread textarea[name=body]");
  await expectVisible(box, { message: "the thread's message box" });
  await box.fill(text);
  await navigating(page, () => page.locator("#thread form button[type=submit]").click());
  await expectText(page.locator("#thread ul.thread"), text, { message: "the message in the thread" });
}

/**
 * Marks the page so that a test can prove later that it was not reloaded:
 * returns a check that fails if the page was navigated or reloaded meanwhile.
 */
export async function markNoReload(page) {
  const token = `m${Math.random().toString(36).slice(2)}`;
  await page.evaluate((t) => { window.__e2eNoReload = t; }, token);
  return async () => {
    const now = await page.evaluate(() => window.__e2eNoReload);
    assert.equal(now, token, "the page was reloaded or left; live updates were expected instead");
  };
}

/** The row of a request in the queue table. */
export function queueRow(page, id) {
  return page.locator(`table.queue tr[data-href="/requests/${id}"]`);
}
