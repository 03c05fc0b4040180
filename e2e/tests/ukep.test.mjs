// «Подписать УКЭП» in the browser (issue 24, item 2). The CryptoPro CAdES
// plug-in cannot run here, so the page gets a stand-in for its documented
// asynchronous JavaScript API (`cadesplugin`: CreateObjectAsync, Store,
// CPSigner, CadesSignedData.SignCades) that signs with a real ГОСТ Р
// 34.10-2012 key through OpenSSL and the gost engine — in this test only.
// The server trusts the test CA (its certificate and CRL in --trust-roots);
// the certificate names the demo consultant by СНИЛС and name. The signed
// conclusion's PDF and СЭМД then carry the consultant's own signature, every
// verdict ✔. Without the plug-in the page says what to do instead.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { world } from "../lib/harness.mjs";
import { DEMO_PASSWORD } from "../lib/config.mjs";
import { expectText, expectVisible } from "../lib/wait.mjs";
import { STATUS, expectStatus, navigating } from "../lib/flows.mjs";

const pki = fs.mkdtempSync(path.join(os.tmpdir(), "rtms-e2e-ukep-"));
const roots = path.join(pki, "roots");
const ssl = (...args) => execFileSync("openssl", args, { cwd: pki, stdio: ["ignore", "pipe", "pipe"] }).toString();

// The test CA: ГОСТ Р 34.10-2012 (256), its empty CRL; the server trusts both.
fs.mkdirSync(roots);
fs.writeFileSync(path.join(pki, "index.txt"), "");
fs.writeFileSync(path.join(pki, "serial"), "1001\n");
fs.writeFileSync(path.join(pki, "crlnumber"), "01\n");
fs.writeFileSync(path.join(pki, "ca.cnf"), [
  "[ca]", "default_ca = t", "[t]", "dir = .", "database = index.txt", "new_certs_dir = .", "serial = serial",
  "crlnumber = crlnumber", "default_md = md_gost12_256", "default_crl_days = 30", "policy = any",
  "unique_subject = no", "[any]", "commonName = supplied", "surname = optional", "givenName = optional", "SNILS = optional",
  "[v3_ca]", "basicConstraints = critical,CA:true", "keyUsage = critical,keyCertSign,cRLSign",
  "[v3_signer]", "basicConstraints = CA:false", "keyUsage = critical,digitalSignature,nonRepudiation", "",
].join("\n"));
ssl("genpkey", "-engine", "gost", "-algorithm", "gost2012_256", "-pkeyopt", "paramset:A", "-out", "ca.key");
ssl("req", "-engine", "gost", "-new", "-x509", "-key", "ca.key", "-subj", "/CN=Test UC GOST", "-days", "3650",
  "-config", "ca.cnf", "-extensions", "v3_ca", "-md_gost12_256", "-out", "ca.crt");
ssl("ca", "-engine", "gost", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-gencrl", "-out", "ca.crl");
fs.copyFileSync(path.join(pki, "ca.crt"), path.join(roots, "uc.crt"));
fs.copyFileSync(path.join(pki, "ca.crl"), path.join(roots, "uc.crl"));
process.env.RTMS_TRUST_ROOTS = roots;

const w = world("ukep");
after(() => fs.rmSync(pki, { recursive: true, force: true }));

/** The demo consultant's certificate: their СНИЛС and name, a 512-bit key. */
async function issueFor(login) {
  const api = async (route, token) => (await fetch(w.server.url + route, { headers: { authorization: `Bearer ${token}` } })).json();
  const r = await fetch(w.server.url + "/api/v1/auth/login", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: "admin", password: DEMO_PASSWORD }),
  });
  const { token } = await r.json();
  const u = (await api("/api/v1/admin/users", token)).find((x) => x.login === login);
  const given = `${u.first_name} ${u.middle_name}`;
  ssl("genpkey", "-engine", "gost", "-algorithm", "gost2012_512", "-pkeyopt", "paramset:A", "-out", "signer.key");
  ssl("req", "-engine", "gost", "-new", "-key", "signer.key", "-utf8", "-out", "signer.csr",
    "-subj", `/CN=${u.last_name} ${given}/SN=${u.last_name}/GN=${given}/SNILS=${u.snils}`);
  ssl("ca", "-engine", "gost", "-batch", "-config", "ca.cnf", "-keyfile", "ca.key", "-cert", "ca.crt", "-utf8",
    "-in", "signer.csr", "-out", "signer.crt", "-extensions", "v3_signer", "-days", "365", "-notext");
  return `${u.last_name} ${given}`;
}

/** A detached CAdES-BES signature (DER, base64) of base64 content, by the test key. */
function signBase64(content) {
  fs.writeFileSync(path.join(pki, "content.bin"), Buffer.from(content, "base64"));
  ssl("cms", "-sign", "-engine", "gost", "-binary", "-in", "content.bin", "-signer", "signer.crt",
    "-inkey", "signer.key", "-md", "md_gost12_512", "-outform", "DER", "-out", "content.p7s");
  return fs.readFileSync(path.join(pki, "content.p7s")).toString("base64");
}

/**
 * The stand-in for the plug-in's asynchronous API, as its documentation
 * describes it: `cadesplugin` is a promise with CreateObjectAsync; objects'
 * properties are read as promises, set with propset_*.
 */
function standIn(holder) {
  const cert = {
    SubjectName: Promise.resolve(`CN=${holder}`),
    ValidToDate: Promise.resolve(new Date(Date.now() + 300 * 86400_000).toISOString()),
    HasPrivateKey: async () => true,
  };
  const objects = {
    "CAdESCOM.Store": () => ({
      Open: async () => {},
      Close: async () => {},
      get Certificates() {
        return Promise.resolve({ Count: Promise.resolve(1), Item: async (i) => (i === 1 ? cert : null) });
      },
    }),
    "CAdESCOM.CPSigner": () => ({ propset_Certificate: async () => {}, propset_Options: async () => {} }),
    "CAdESCOM.CadesSignedData": () => {
      let content = "";
      return {
        propset_ContentEncoding: async () => {},
        propset_Content: async (b64) => { content = b64; },
        SignCades: async (_signer, type, detached) => {
          if (type !== 1 || detached !== true) throw new Error("CAdES-BES, detached expected");
          window.__ukepSigned = (window.__ukepSigned || 0) + 1;
          return window.__ukepSign(content);
        },
      };
    },
  };
  const plugin = Promise.resolve();
  plugin.CreateObjectAsync = async (name) => {
    if (!objects[name]) throw new Error(`unknown object ${name}`);
    return objects[name]();
  };
  window.cadesplugin = plugin;
}

test("the consultant signs the conclusion with a qualified signature in the browser", () => w.run(async () => {
  const holder = await issueFor("consultant");
  const consultant = await w.person("consultant");
  const c = consultant.page;
  await consultant.context.exposeFunction("__ukepSign", signBase64);
  await consultant.context.addInitScript(standIn, holder);

  // A request of the demo region in progress, the conclusion written and signed.
  await c.goto("/queue");
  const link = c.locator(".queue tr:has(.st-in_progress) a.patient").first();
  await navigating(c, () => link.click());
  const cf = c.locator("#conclusion-form");
  await expectVisible(cf);
  if (!(await cf.locator("[name=diagnosis_main]").inputValue())) await cf.locator("[name=diagnosis_main]").fill("I21.0");
  await cf.locator("[name=findings]").fill("Постинфарктное ремоделирование ЛЖ.");
  await cf.locator("[name=recommendations]").fill("Коронарография в плановом порядке.");
  await cf.locator("[name=patient_condition]").selectOption("2");
  await navigating(c, () => cf.locator("button[name=intent][value=sign]").click());
  await expectStatus(c, STATUS.completed);
  const semd = await c.locator("#ukep").getAttribute("data-semd");

  // One click: the plug-in signs the stored bytes, the page uploads and reloads.
  await expectText(c.locator("#ukep-sign"), "Подписать УКЭП");
  await navigating(c, () => c.locator("#ukep-sign").click());
  const list = c.locator("#cms-signatures");
  await expectText(list, holder, { message: "the consultant's signature is listed" });
  const lines = list.locator(":scope > ul > li");
  assert.equal(await lines.count(), semd ? 2 : 1, "the PDF's signature, and the СЭМД's when there is one");
  for (let i = 0; i < (await lines.count()); i++) {
    const line = lines.nth(i);
    await expectText(line, "ГОСТ Р 34.10-2012 (512)");
    await expectText(line, "подпись действительна");
    assert.deepEqual(await line.locator(".cms-verdicts li").evaluateAll((els) => els.map((e) => e.dataset.ok)),
      ["true", "true", "true", "true", "true"], "every verdict holds");
    await expectText(line, "сертификат выдан этому пользователю");
  }
  await w.shot(c, "signed");
  // What was signed is exactly what the system keeps: the server checked it.
  const id = new URL(c.url()).pathname.split("/")[2];
  const login = await (await fetch(w.server.url + "/api/v1/auth/login", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ login: "consultant", password: DEMO_PASSWORD }),
  })).json();
  const api = await (await fetch(`${w.server.url}/api/v1/consultations/${id}/conclusion/signatures`, {
    headers: { authorization: `Bearer ${login.token}` },
  })).json();
  assert.deepEqual(api.map((s) => [s.target, s.status, s.signer_match]).sort(),
    (semd ? [["pdf", "valid", "matches"], ["semd", "valid", "matches"]] : [["pdf", "valid", "matches"]]));

  // Without the plug-in: said plainly, the file upload offered instead.
  const plain = await w.person("consultant");
  await plain.page.goto(c.url());
  await plain.page.locator("#ukep-sign").click();
  await expectText(plain.page.locator("#ukep-status"), "КриптоПро ЭЦП Browser plug-in в этом браузере не найден");
  assert.equal(await plain.page.evaluate(() => document.activeElement.name), "signature", "the file input is next");
  await w.shot(plain.page, "no-plugin");
}));
