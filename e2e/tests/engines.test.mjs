// The main path in Firefox ESR and in WebKit (Safari's engine), driven by
// classic WebDriver (lib/webdriver.mjs): sign-in; a doctor's planned request
// with an attachment and its progress bar; the dispatcher's live queue and
// the assignment; the consultant's question, the doctor's answer and the
// signed conclusion; the doctor opening the conclusion's PDF. The same flows
// as the Chromium tests (lib/flows.mjs), the same server, the same checks.
//
// Then a video call: two Firefox users and a Chromium user in one room, each
// receiving the others' video (fake cameras). WebKitGTK as Debian builds it
// has no WebRTC (no RTCPeerConnection): there the test checks that the room
// says so plainly and stays out, and the rest of the page works.
//
// Each engine gets its own server. No page may report a script error or a
// CSP refusal: the pages send both to the server (`/browser-report`), whose
// log is read at the end of each scenario.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startServer } from "../lib/server.mjs";
import { launchEngine } from "../lib/webdriver.mjs";
import { DEMO_PASSWORD, ARTIFACTS } from "../lib/config.mjs";
import { minimalPdf } from "../lib/fixtures.mjs";
import { receivesVideo } from "../lib/media.mjs";
import { launchBrowser, newPerson, signIn as signInChromium } from "../lib/browser.mjs";
import { createRequire } from "node:module";

const AXE = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core's serious and critical WCAG 2.1 A/AA violations, run in this engine. */
async function axeViolations(page) {
  await page.s.exec(`${AXE}; return true;`);
  const r = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    resultTypes: ["violations"],
  }));
  return r.violations.filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}
import { eventually, expectText, expectVisible, expectValue, expectHidden } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, createDraft, fillRequest, pickIcd, expectStatus,
  act, actWithForm, postMessage, markNoReload, queueRow, navigating,
} from "../lib/flows.mjs";

const fixtureDir = fs.mkdtempSync(path.join(os.tmpdir(), "rtms-e2e-engines-"));
const pdfFile = path.join(fixtureDir, "Выписка из ЦРБ.pdf");
fs.writeFileSync(pdfFile, minimalPdf("Discharge summary: ECG 06.11"));
after(() => fs.rmSync(fixtureDir, { recursive: true, force: true }));

/** Signs in through the form; resolves on the page the server sends us to. */
async function signIn(page, login) {
  await page.goto("/login");
  await expectText(page.locator("h1"), "Вход в систему");
  const form = page.locator('form[action="/login"]');
  await form.locator("input[name=login]").fill(login);
  await form.locator("input[name=password]").fill(DEMO_PASSWORD);
  await navigating(page, () => form.locator("button[type=submit]").click());
  assert.equal(new URL(page.url()).pathname, "/queue", `${login} lands on the queue`);
}

/** What pages reported to the server (CSP refusals, script errors) so far. */
function browserReports(server) {
  return fs.readFileSync(server.logPath, "utf8").split("\n").filter((l) => l.includes("browser report"));
}

for (const engine of ["firefox", "webkit"]) {
  test(`main path in ${engine}: request with a file, live queue, question, signed conclusion, PDF`, async (t) => {
    const server = await startServer(`engines-${engine}`);
    const browser = await launchEngine(engine, server);
    const people = [];
    let broken = null;
    const shot = (page, what) => browser.shot(page, `engines-${engine}-${what}`);
    const step = async (label, fn) => {
      if (broken) return t.test(label, { skip: `an earlier step failed: ${broken}` }, () => {});
      await t.test(label, async () => {
        try {
          await fn();
        } catch (e) {
          broken = label;
          for (const p of people) await shot(p.page, `FAILED-${p.who}`).catch(() => {});
          e.message += `\n(screenshots: artifacts/*/engines-${engine}-FAILED-*.png; server log: ${server.logPath})`;
          throw e;
        }
      });
    };
    try {
      let d, q, c, id, queueUntouched, samePage;
      const question = "Есть ли данные ЭхоКГ: фракция выброса?";
      const answer = "ЭхоКГ 07.11: ФВ 42 %, акинезия передней стенки.";
      const findings = "Постинфарктное ремоделирование ЛЖ, ФВ 42 %.";
      const recommendations = "Коронарография в плановом порядке; продолжить ДАТТ.";

      await step("doctor, dispatcher and consultant sign in", async () => {
        for (const who of ["doctor", "dispatcher", "consultant"]) {
          const p = await browser.open(who);
          people.push(p);
          await signIn(p.page, who);
        }
        [d, q, c] = people.map((p) => p.page);
        t.diagnostic(`${browser.label}: ${people[0].capabilities.browserName} ${people[0].capabilities.browserVersion}`);
        await expectText(q.locator("main h1"), "Очередь запросов региона");
        await expectValue(q.locator("#queue-filters select[name=status]"), "open");
        queueUntouched = await markNoReload(q);
        await shot(q, "01-queue-dispatcher");
      });

      await step("the doctor fills in a planned request (МКБ-10 by words) and sends it", async () => {
        id = await createDraft(d);
        await fillRequest(d, plannedRequest());
        await expectVisible(d.locator("#profile-hint"), { message: "the cardiology hint" });
        await pickIcd(d, "инфаркт", "I21.0");
        await expectText(d.locator("#save-status"), /Сохранено/, { message: "autosave reports itself" });
        await shot(d, "02-form-doctor");
        await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
        assert.equal(new URL(d.url()).pathname, `/requests/${id}`);
        await expectStatus(d, STATUS.submitted);
      });

      await step("the doctor attaches a PDF: the progress bar reaches 100, the file is listed without a reload", async () => {
        samePage = await markNoReload(d);
        await d.evaluate(() => {
          window.__e2eProgress = [];
          const list = document.querySelector("#attachments .upload-list");
          new MutationObserver((records) => {
            for (const r of records) if (r.target.tagName === "PROGRESS") window.__e2eProgress.push(Number(r.target.value));
          }).observe(list, { subtree: true, attributes: true, attributeFilter: ["value"] });
        });
        await d.locator("#attachments [data-upload-input]").setInputFiles(pdfFile);
        const li = d.locator("#attachments .upload-list li");
        await expectText(li.locator(".name"), path.basename(pdfFile));
        await expectVisible(d.locator('#attachments .upload-list li[data-state="done"]'), { message: "the upload finishes" });
        await expectText(li.locator(".state"), "загружен");
        const seen = await d.evaluate(() => window.__e2eProgress);
        assert.ok(seen.length > 0, "the progress bar moved");
        assert.equal(seen.at(-1), 100, `the bar ends at 100: ${seen.join(" → ")}`);
        await eventually(async () => assert.equal(await d.locator("#file-list li.file").count(), 1), { message: "the file is listed" });
        await expectText(d.locator("#file-list li.file .kind"), "PDF");
        await samePage();
        await shot(d, "03-uploaded-doctor");
      });

      await step("the dispatcher's open queue shows it without a reload; take and assign", async () => {
        const row = queueRow(q, id);
        await expectVisible(row, { message: `request № ${id} appears in the open queue by itself` });
        await queueUntouched();
        await expectText(row, "Ковалёв Игорь Петрович");
        await shot(q, "04-queue-new-row");
        await navigating(q, () => row.locator("a.patient").click());
        await act(q, "take");
        await expectStatus(q, STATUS.in_review);
        await actWithForm(q, "assign", async (form) => {
          await form.locator("select[name=consultant_id]").selectOption({ label: "Смирнов" });
        });
        await expectStatus(q, STATUS.assigned);
        await expectText(q.locator("aside"), "Смирнов");
      });

      await step("the consultant is told at once, accepts, starts and asks", async () => {
        await expectText(c.locator("#live-banner"), `№ ${id}`, { message: "the consultant's live banner" });
        await navigating(c, () => c.locator(`#live-banner a[href="/requests/${id}"]`).click());
        await act(c, "accept");
        await act(c, "start");
        await expectStatus(c, STATUS.in_progress);
        await postMessage(c, question);
      });

      await step("the doctor hears of the question and answers", async () => {
        await expectText(d.locator("#live-banner"), "Вопрос консультанта", { message: "the doctor hears of the question" });
        await d.goto(`/requests/${id}`);
        await expectText(d.locator("#thread"), question);
        await postMessage(d, answer);
      });

      await step("the consultant writes and signs the conclusion", async () => {
        await expectText(c.locator("#live-banner"), "Ответ врача", { message: "the consultant hears of the answer" });
        await c.goto(`/requests/${id}`);
        await expectText(c.locator("#thread"), answer);
        const cf = c.locator("#conclusion-form");
        await expectValue(cf.locator("[name=diagnosis_main]"), "I21.0");
        await cf.locator("[name=findings]").fill(findings);
        await cf.locator("[name=recommendations]").fill(recommendations);
        await cf.locator("[name=patient_condition]").selectOption("2");
        await navigating(c, () => cf.locator("button[name=intent][value=sign]").click());
        await expectStatus(c, STATUS.completed);
        await expectVisible(c.locator("section#conclusion.signed"));
        await expectHidden(c.locator("#conclusion-form"));
        await shot(c, "05-signed-consultant");
      });

      await step("the doctor reads the conclusion and opens its PDF", async () => {
        await expectText(d.locator("#live-banner"), "Заключение готово", { message: "the doctor hears the conclusion is ready" });
        await d.goto(`/requests/${id}`);
        const concl = d.locator("section#conclusion.signed");
        await expectText(concl, findings);
        await expectText(concl, /Подписано:.*Смирнов/);
        await shot(d, "06-conclusion-doctor");
        // The accessibility engine agrees in this engine too.
        assert.deepEqual(await axeViolations(d), [], "the doctor's request page");
        assert.deepEqual(await axeViolations(q), [], "the dispatcher's request page");
        // The link opens a new window with the PDF, with the doctor's session.
        const link = concl.locator('a.btn.primary[href$="/conclusion/pdf"]');
        const s = people[0].session;
        const before = await s.cmd("GET", "/window/handles");
        const own = await s.cmd("GET", "/window");
        await link.click();
        let opened;
        await eventually(async () => {
          opened = (await s.cmd("GET", "/window/handles")).find((h) => !before.includes(h));
          assert.ok(opened, "a new window");
        }, { message: "the PDF link opens a window" });
        await s.cmd("POST", "/window", { handle: opened });
        await eventually(async () => {
          const u = await s.cmd("GET", "/url");
          assert.match(u, new RegExp(`/api/v1/consultations/${id}/conclusion/pdf$`));
        }, { message: "the new window shows the PDF's address" });
        await new Promise((r) => setTimeout(r, 1500)); // the viewer draws the first page
        fs.writeFileSync(path.join(ARTIFACTS, `engines-${engine}-07-conclusion-pdf.png`), Buffer.from(await s.cmd("GET", "/screenshot"), "base64"));
        await s.cmd("DELETE", "/window");
        await s.cmd("POST", "/window", { handle: own });
        // And the bytes behind it are the signed PDF.
        const got = await d.evaluate(async (href) => {
          const r = await fetch(href);
          const b = new Uint8Array(await r.arrayBuffer());
          return { status: r.status, type: r.headers.get("content-type"), head: String.fromCharCode(...b.slice(0, 5)), size: b.length };
        }, await link.getAttribute("href"));
        assert.equal(got.status, 200);
        assert.equal(got.type, "application/pdf");
        assert.equal(got.head, "%PDF-");
        assert.ok(got.size > 10_000, `a real PDF: ${got.size} bytes`);
      });

      await t.test("no page reported a script error or a CSP refusal", () => {
        assert.deepEqual(browserReports(server), []);
      });
    } finally {
      await browser.close();
      await server.stop();
    }
  });
}

async function api(server, route, { token, method = "GET", body } = {}) {
  const resp = await fetch(server.url + route, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: resp.status, json: await resp.json().catch(() => null) };
}

/** Books a video session starting in a minute for these users; returns its id. */
async function book(server, logins) {
  const token = async (login) =>
    (await api(server, "/api/v1/auth/login", { method: "POST", body: { login, password: DEMO_PASSWORD } })).json.token;
  const ids = [];
  for (const login of logins) ids.push((await api(server, "/api/v1/me", { token: await token(login) })).json.id);
  const r = await api(server, "/api/v1/video", {
    token: await token("dispatcher"),
    method: "POST",
    body: { starts_at: new Date(Date.now() + 60_000).toISOString(), participant_ids: ids },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.id;
}

const FAKE_MEDIA = [
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--autoplay-policy=no-user-gesture-required",
];

test("video in firefox: two Firefox users and a Chromium user see each other", async () => {
  const server = await startServer("engines-video-firefox");
  const firefox = await launchEngine("firefox", server);
  const chromium = await launchBrowser(FAKE_MEDIA);
  try {
    const room = await book(server, ["doctor", "consultant", "coordinator"]);
    const pages = [];
    for (const who of ["doctor", "consultant"]) {
      const p = await firefox.open(who, { fakeMedia: true });
      await signIn(p.page, who);
      pages.push(p.page);
    }
    const coordinator = await newPerson(chromium, server, "coordinator");
    await signInChromium(coordinator.page, "coordinator");
    pages.push(coordinator.page);
    for (const p of pages) await p.goto(`/video/${room}`);
    for (const p of pages) await receivesVideo(p, 2);
    await firefox.shot(pages[0], "engines-firefox-video-doctor");
    assert.deepEqual(coordinator.problems, [], "the Chromium page had no script errors");
    assert.deepEqual(browserReports(server), [], "no page reported a script error or a CSP refusal");
  } finally {
    await firefox.close();
    await chromium.close();
    await server.stop();
  }
});

test("video in webkit: without WebRTC the room says so and stays out; the page works", async () => {
  const server = await startServer("engines-video-webkit");
  const webkit = await launchEngine("webkit", server);
  try {
    const room = await book(server, ["doctor", "consultant"]);
    const p = await webkit.open("doctor");
    await signIn(p.page, "doctor");
    const d = p.page;
    const hasWebRtc = await d.evaluate(() => typeof window.RTCPeerConnection === "function");
    await d.goto(`/video/${room}`);
    if (hasWebRtc) {
      // A WebKit built with WebRTC (Safari's is): it must then connect like the others.
      const q = await webkit.open("consultant");
      await signIn(q.page, "consultant");
      await q.page.goto(`/video/${room}`);
      await receivesVideo(d, 1);
    } else {
      await expectText(d.locator("#video-status[role=alert]"), "не поддерживает видеосвязь (WebRTC)");
      assert.equal(await d.locator("#video-mic").evaluate((b) => b.disabled), true, "the microphone button is off");
      assert.equal(await d.evaluate(() => window.rtmsVideo.peers.size), 0, "no connection attempted");
      // The room's participant list is there, and this user is not counted in it.
      await expectText(d.locator("#video-people"), "не в комнате");
    }
    await webkit.shot(d, "engines-webkit-video-room");
    assert.deepEqual(browserReports(server), [], "no page reported a script error or a CSP refusal");
  } finally {
    await webkit.close();
    await server.stop();
  }
});
