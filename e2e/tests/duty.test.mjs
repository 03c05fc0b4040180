// Emergencies at night: the board says who is on duty; an emergency reaches
// the on-duty consultant's open page at once (measured and printed); the
// consultant acknowledges with one click; the coordinator's roster refuses a
// bad file row by row and keeps what it had.
import { test } from "node:test";
import assert from "node:assert/strict";
import { world } from "../lib/harness.mjs";
import { expectText, expectVisible } from "../lib/wait.mjs";
import { navigating } from "../lib/flows.mjs";
import { DEMO_PASSWORD } from "../lib/config.mjs";

const w = world("duty");

async function token(login) {
  const r = await fetch(w.server.url + "/api/v1/auth/login", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ login, password: DEMO_PASSWORD }),
  });
  return (await r.json()).token;
}

async function api(route, bearer, method = "GET", body = undefined) {
  const r = await fetch(w.server.url + route, {
    method,
    headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  assert.ok(r.ok, `${method} ${route}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const EMERGENCY = {
  patient: {
    last_name: "Ночной", first_name: "Пётр", middle_name: "Ильич", birth_date: "12.03.1951", sex: "male",
    snils: "112-233-445 95", oms_policy: "1234567890123456", address: "пос. Лесной, ул. Школьная, 4",
  },
  form_of_care: "emergency", mode: "realtime", purpose: "treatment_tactics", profile: "cardiology",
  diagnosis: { main: "I21.0", comorbidities: [], text: "ОИМ с подъёмом ST" },
  question: "Тромболизис или перевод на ЧКВ?", anamnesis_morbi: "Боль за грудиной 40 минут.",
  objective_status: "Состояние тяжёлое.", vitals: { bp_systolic: 90, bp_diastolic: 60, heart_rate: 110, spo2: 92, temperature: 36.6 },
  consent_given: true, contact_phone: "+7 900 000-00-01",
};

test("an emergency reaches the consultant on duty at once, and one click acknowledges it", async (t) => {
  const step = w.steps(t);
  let c, id;

  await step("the consultant on duty has the board open: cardiology is theirs now", async () => {
    const consultant = await w.person("consultant");
    c = consultant.page;
    await navigating(c, () => c.goto(w.server.url + "/duty"));
    await expectText(c.locator("main h1"), "Кто дежурит сейчас");
    await expectText(c.locator("#duty-board tr", { hasText: "Кардиология" }), "Смирнов А. В.");
    await expectText(c.locator("#duty-board tr", { hasText: "Онкология" }), "Ковалёва Е. Д.");
    await w.shot(c, "01-board");
  });

  await step("the doctor's emergency reaches the consultant's open page in under a second", async () => {
    const doctor = await token("doctor");
    id = (await api("/api/v1/consultations", doctor, "POST", EMERGENCY)).id;
    const banner = c.locator("#live-banner.emergency");
    assert.ok(await banner.isHidden(), "no banner before the submission");
    const started = Date.now();
    const submitted = await api(`/api/v1/consultations/${id}/actions/submit`, doctor, "POST", {});
    await banner.waitFor({ state: "visible", timeout: 10_000 });
    const elapsed = Date.now() - started;
    console.log(`# emergency № ${id}: from the submission to the on-duty consultant's open page: ${elapsed} ms`);
    assert.equal(submitted.status, "assigned");
    await expectText(banner, `№ ${id}`);
    assert.ok(elapsed < 1000, `the emergency took ${elapsed} ms to reach the page`);
    // The page rang: the tone and (where allowed) a system notification.
    assert.equal(await c.evaluate(() => document.body.dataset.alarmed), "emergency");
    await w.shot(c, "02-banner");
  });

  await step("the consultant opens it and acknowledges with one click", async () => {
    await navigating(c, () => c.locator(`#live-banner a[href="/requests/${id}"]`).click());
    await expectText(c.locator("#duty-call"), "Вы дежурный: подтвердите получение до");
    await w.shot(c, "03-request-to-acknowledge");
    await navigating(c, () => c.locator("#duty-ack").click());
    await expectText(c.locator("#duty-call"), "Дежурный подтвердил получение: Смирнов А. В.");
    await expectVisible(c.locator(".timeline li", { hasText: "Дежурный подтвердил получение" }));
    await expectVisible(c.locator('#actions button[data-action="accept"]'));
    await w.shot(c, "04-request-acknowledged");
  });

  await step.finish();
});

test("the coordinator's roster refuses a bad file row by row and keeps what it had", async (t) => {
  const step = w.steps(t);
  let p;
  await step("the roster shows this week's shifts", async () => {
    const coordinator = await w.person("coordinator");
    p = coordinator.page;
    await navigating(p, () => p.goto(w.server.url + "/duty/roster"));
    await expectText(p.locator("main h1"), "График дежурств");
    await expectText(p.locator("#roster-centre"), "ТКЦ ОКБ");
    await expectText(p.locator("#duty-grid"), "Смирнов А. В.");
    await w.shot(p, "05-roster");
  });
  let before;
  await step("a file with a bad row is refused, naming the row and why; nothing changes", async () => {
    before = await p.locator("#duty-grid .duty-shift").count();
    const csv = "date;profile;kind;start;end;primary;backups\n" +
      "01.03.2027;cardiology;day;08:00;20:00;consultant;\n" +
      "02.03.2027;cardiology;day;08:00;20:00;nobody;\n";
    await p.locator("#import-form input[type=file]").setInputFiles({ name: "roster.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await navigating(p, () => p.locator("#import-form button[type=submit]").click());
    await expectText(p.locator("#duty-errors"), "Строка 3 · основной: Нет пользователя с таким логином");
    await expectText(p.locator("#duty-errors"), "График не изменён.");
    assert.equal(await p.locator("#duty-grid .duty-shift").count(), before);
    await w.shot(p, "06-roster-refused");
  });
  await step("a good file is loaded", async () => {
    const csv = "date;profile;kind;start;end;primary;backups\n01.03.2027;cardiology;day;08:00;20:00;consultant;\n";
    await p.locator("#import-form input[type=file]").setInputFiles({ name: "roster.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    await navigating(p, () => p.locator("#import-form button[type=submit]").click());
    await expectText(p.locator("#duty-done"), "Загружено смен: 1");
  });
  await step.finish();
});
