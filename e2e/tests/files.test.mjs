// Attachments through the browser: the doctor attaches a CT study (a ZIP of
// DICOM files) and a PDF to a request with the page's own uploader and sees
// them listed without a reload; a file that only pretends to be a PDF is
// refused with a message in Russian; the assigned consultant opens the study
// in the viewer, pages through it and switches the window to "lung".
//
// The study is generated before the test by the rtms-dicom crate's example
// (`cargo run -p rtms-dicom --features fixtures --example make_study`), or
// taken from RTMS_E2E_STUDY (a ZIP of DICOM files) when that is set.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { world } from "../lib/harness.mjs";
import { E2E_DIR } from "../lib/config.mjs";
import { minimalPdf } from "../lib/fixtures.mjs";
import { eventually, expectText, expectVisible, expectHidden } from "../lib/wait.mjs";
import {
  STATUS, plannedRequest, createDraft, fillRequest, expectStatus, act, actWithForm,
  markNoReload, navigating,
} from "../lib/flows.mjs";

const run = promisify(execFile);
const w = world("files");

/** Instances in the generated study: enough to page through. */
const INSTANCES = 6;

const fixtures = { dir: null, study: null, pdf: null, fake: null };

const sha256 = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

before(async () => {
  fixtures.dir = fs.mkdtempSync(path.join(os.tmpdir(), "rtms-e2e-files-fixtures-"));
  if (process.env.RTMS_E2E_STUDY) {
    fixtures.study = path.resolve(process.env.RTMS_E2E_STUDY);
  } else {
    // The file name is what the doctor's computer would call it.
    fixtures.study = path.join(fixtures.dir, "КТ грудной клетки.zip");
    await run("cargo", [
      "run", "-q", "-p", "rtms-dicom", "--features", "fixtures", "--example", "make_study",
      "--", fixtures.study, String(INSTANCES),
    ], { cwd: path.resolve(E2E_DIR, ".."), timeout: 15 * 60_000, maxBuffer: 16 << 20 });
  }
  fixtures.pdf = path.join(fixtures.dir, "Выписка из ЦРБ.pdf");
  fs.writeFileSync(fixtures.pdf, minimalPdf("Discharge summary: ECG, echo, troponin"));
  // Plain text under a .pdf name: the server decides by content, not by name.
  fixtures.fake = path.join(fixtures.dir, "анализы.pdf");
  fs.writeFileSync(fixtures.fake, "Общий анализ крови: гемоглобин 132 г/л, лейкоциты 7,1.\n");
});

after(() => {
  if (fixtures.dir) fs.rmSync(fixtures.dir, { recursive: true, force: true });
});

/** Waits until the image has loaded a picture (not a broken one) and returns its src. */
async function loadedFrame(img, { not, message } = {}) {
  return eventually(async () => {
    const s = await img.evaluate((el) => ({ src: el.src, done: el.complete, width: el.naturalWidth }));
    if (not) assert.notEqual(s.src, not, "the image's src has not changed yet");
    assert.ok(s.done && s.width > 0, `the image has not loaded (complete=${s.done}, naturalWidth=${s.width})`);
    return s.src;
  }, { message });
}

test("the doctor attaches a CT study and a PDF; the consultant views the study", async (t) => {
  const step = w.steps(t);
  let doctor, dispatcher, consultant, d, c, id, samePage, studyId, pdfId, viewerUrl;
  const studyName = () => path.basename(fixtures.study);
  const pdfName = () => path.basename(fixtures.pdf);

  await step("the doctor creates and sends a request; it has an empty «Файлы» section", async () => {
    doctor = await w.person("doctor");
    d = doctor.page;
    id = await createDraft(d);
    await fillRequest(d, plannedRequest({ "diagnosis.main": "I21.0" }));
    await navigating(d, () => d.locator("button[name=intent][value=submit]").click());
    assert.equal(new URL(d.url()).pathname, `/requests/${id}`);
    await expectStatus(d, STATUS.submitted);
    await expectText(d.locator("#attachments h2"), "Файлы");
    await expectText(d.locator("#files-empty"), "Файлов пока нет");
    assert.equal(await d.locator("#file-list li.file").count(), 0, "no files yet");
    await expectVisible(d.locator("#attachments .uploader label.btn"), { message: "the attach button" });
  });

  await step("the doctor picks the study ZIP and the PDF: progress reaches 100, both listed without a reload", async () => {
    samePage = await markNoReload(d);
    // Every value each progress bar takes, in order (the bar's value attribute
    // follows the property), so that the test sees it climb and stop at 100.
    await d.evaluate(() => {
      window.__e2eProgress = [];
      const list = document.querySelector("#attachments .upload-list");
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === "attributes" && r.target.tagName === "PROGRESS") {
            const items = [...list.querySelectorAll("li")];
            const i = items.indexOf(r.target.closest("li"));
            (window.__e2eProgress[i] ||= []).push(Number(r.target.value));
          }
        }
      }).observe(list, { subtree: true, attributes: true, attributeFilter: ["value"] });
    });
    await d.locator("#attachments [data-upload-input]").setInputFiles([fixtures.study, fixtures.pdf]);

    const uploads = d.locator("#attachments .upload-list li");
    await expectText(uploads.nth(0).locator(".name"), studyName());
    await expectText(uploads.nth(1).locator(".name"), pdfName());
    await expectVisible(d.locator('#attachments .upload-list li[data-state="done"]').nth(1), {
      message: "both uploads finish",
    });
    for (const i of [0, 1]) {
      await expectText(uploads.nth(i).locator(".state"), "загружен");
      assert.equal(await uploads.nth(i).locator("progress").evaluate((p) => p.value), 100, `upload ${i} shows 100`);
    }
    const seen = await d.evaluate(() => window.__e2eProgress);
    for (const [i, values] of seen.entries()) {
      assert.ok(values?.length, `progress bar ${i} moved`);
      assert.equal(values.at(-1), 100, `progress bar ${i} ends at 100: ${values.join(" → ")}`);
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `progress bar ${i} never goes back`);
    }

    // The list re-reads itself after the uploads: both files, with their checksums.
    const files = d.locator("#file-list li.file");
    await eventually(async () => assert.equal(await files.count(), 2), { message: "two files in the list" });
    await samePage();
    await expectHidden(d.locator("#files-empty"), { message: "the «no files» line goes" });
    const study = files.filter({ hasText: studyName() });
    const pdf = files.filter({ hasText: pdfName() });
    await expectText(study.locator(".kind"), "DICOM ZIP");
    await expectText(pdf.locator(".kind"), "PDF");
    await expectText(study.locator(".mono"), sha256(fixtures.study), { message: "the study's SHA-256" });
    await expectText(pdf.locator(".mono"), sha256(fixtures.pdf), { message: "the PDF's SHA-256" });
    await expectText(study.locator('a[href$="/view"]'), "Просмотр", { message: "a study has a viewer link" });
    assert.equal(await pdf.locator('a[href$="/view"]').count(), 0, "a PDF has no viewer link");
    studyId = Number(await study.getAttribute("data-attachment"));
    pdfId = Number(await pdf.getAttribute("data-attachment"));
    assert.ok(studyId > 0 && pdfId > 0 && studyId !== pdfId, `attachment ids ${studyId}, ${pdfId}`);
    await w.shot(d, "01-uploaded-doctor");
  });

  await step("a text file named .pdf is refused, with the reason in Russian", async () => {
    await d.locator("#attachments [data-upload-input]").setInputFiles(fixtures.fake);
    const failed = d.locator('#attachments .upload-list li[data-state="failed"]');
    await expectVisible(failed, { message: "the refused upload is marked" });
    await expectText(failed.locator(".name"), path.basename(fixtures.fake));
    const message = await expectText(failed.locator('.state[role="alert"]'), "не загружен: Такой файл не принимается");
    assert.match(message, /PDF, JPEG, PNG, DICOM/, "the message says what is accepted");
    await samePage();
    // Nothing half-kept: the list still has the two good files only.
    await d.waitForTimeout(300); // the list re-reads itself after the batch
    assert.equal(await d.locator("#file-list li.file").count(), 2, "the refused file is not listed");
    await w.shot(d, "02-refused-doctor");
  });

  await step("the dispatcher takes the request and assigns it to Смирнов А. В.", async () => {
    dispatcher = await w.person("dispatcher");
    const q = dispatcher.page;
    await q.goto(`/requests/${id}`);
    await act(q, "take");
    await expectStatus(q, STATUS.in_review);
    // The dispatcher sees the files too, with no way to add any.
    assert.equal(await q.locator("#file-list li.file").count(), 2, "the dispatcher sees both files");
    assert.equal(await q.locator("#attachments [data-upload-input]").count(), 0, "the dispatcher cannot attach");
    await actWithForm(q, "assign", async (form) => {
      const select = form.locator("select[name=consultant_id]");
      const options = await select.locator("option").allInnerTexts();
      const smirnov = options.find((o) => o.includes("Смирнов"));
      assert.ok(smirnov, `Смирнов А. В. is offered: ${options.join(" | ")}`);
      await select.selectOption({ label: smirnov });
    });
    await expectStatus(q, STATUS.assigned);
    await w.dismiss(dispatcher);
  });

  await step("the consultant sees both files and opens the study's viewer", async () => {
    consultant = await w.person("consultant");
    c = consultant.page;
    await c.goto(`/requests/${id}`);
    await expectStatus(c, STATUS.assigned);
    const files = c.locator("#file-list li.file");
    await expectText(files.filter({ hasText: studyName() }), "DICOM ZIP");
    await expectText(files.filter({ hasText: pdfName() }), "PDF");
    // The PDF downloads as it was sent.
    const res = await c.request.get(`/api/v1/attachments/${pdfId}`);
    assert.equal(res.status(), 200);
    assert.equal(createHash("sha256").update(await res.body()).digest("hex"), sha256(fixtures.pdf));
    await navigating(c, () => files.filter({ hasText: studyName() }).locator('a[href$="/view"]').click());
    viewerUrl = new URL(c.url()).pathname;
    assert.equal(viewerUrl, `/attachments/${studyId}/view`);
    await expectText(c.locator("main h1"), studyName());
    await expectVisible(c.locator(".viewer"), { message: "the viewer" });
    await expectText(c.locator(".viewer [data-series]").first(), "CT");
    await expectText(c.locator(".viewer [data-series]").first(), `${INSTANCES} снимков`);
    await loadedFrame(c.locator(".viewer img.frame"), { message: "the first image loads" });
    await expectText(c.locator(".viewer .frame-label"), `Снимок 1 / ${INSTANCES}`);
    assert.equal(await c.locator(".viewer").evaluate((v) => v.classList.contains("error")), false, "no error");
    await w.shot(c, "03-viewer-consultant");
  });

  await step("▶ and ArrowDown page through the series", async () => {
    const img = c.locator(".viewer img.frame");
    const first = await loadedFrame(img);
    await c.locator('.viewer [data-step="1"]').click();
    const second = await loadedFrame(img, { not: first, message: "▶ shows the next image" });
    assert.match(second, /[?&]instance=1(&|$)/, "the second instance");
    await expectText(c.locator(".viewer .frame-label"), `Снимок 2 / ${INSTANCES}`);
    await c.keyboard.press("ArrowDown");
    const third = await loadedFrame(img, { not: second, message: "ArrowDown shows the next image" });
    assert.match(third, /[?&]instance=2(&|$)/, "the third instance");
    await expectText(c.locator(".viewer .frame-label"), `Снимок 3 / ${INSTANCES}`);
    assert.equal(await c.locator(".viewer input[type=range]").inputValue(), "2", "the slider follows");
    await c.locator('.viewer [data-step="-1"]').click();
    assert.equal(await loadedFrame(img, { not: third, message: "◀ goes back" }), second);
  });

  await step("the «lung» preset changes the picture", async () => {
    const img = c.locator(".viewer img.frame");
    const before = await loadedFrame(img);
    const lung = c.locator('.viewer [data-preset="lung"]');
    await expectText(lung, "Лёгкие");
    await lung.click();
    const after = await loadedFrame(img, { not: before, message: "the lung window shows" });
    assert.match(after, /[?&]preset=lung(&|$)/);
    assert.ok(await lung.evaluate((b) => b.classList.contains("active")), "the lung button is marked active");
    // Not just another address: another picture (the file's own window is 40/400).
    const [a, b] = await Promise.all([c.request.get(before), c.request.get(after)]);
    assert.equal(a.headers()["content-type"], "image/png");
    assert.equal(b.headers()["content-type"], "image/png");
    assert.notDeepEqual(await a.body(), await b.body(), "the lung window renders other pixels");
    await expectText(c.locator(".viewer .frame-label"), `Снимок 2 / ${INSTANCES}`, {
      message: "a preset keeps the image",
    });
    await w.shot(c, "04-viewer-lung-consultant");
  });

  await step.finish();
});
