// Language checks of a page. Patient data, people's and organizations' names and
// МКБ-10 titles are Russian on purpose in both languages; what must follow the
// language is the interface itself ("chrome"): navigation, headings, labels,
// buttons, column heads, statuses, hints, messages, placeholders and tooltips.

/** Russian letters, and the numero sign English does not use ("No. 12"). */
export const CYRILLIC = /[\u0400-\u04FF\u2116]/;

/**
 * Texts of the page's interface chrome, each with where it was found. Hidden
 * elements count too (a closed action form is still part of the page).
 * @param {import("playwright-core").Page} page
 * @param {{ h1IsData?: boolean }} opts h1IsData: the page's h1 is a patient's name
 */
export async function chromeTexts(page, { h1IsData = false } = {}) {
  return page.evaluate(({ h1IsData }) => {
    const out = [];
    // Data shown inside chrome elements: names, organizations, codes, what users typed.
    const DATA = [
      ".user-name", "#notif-list", "a.lang", ".code", "select", "textarea", "input",
      "#icd-suggest", ".thread", ".sig", ".mono",
    ].join(", ");
    const squeeze = (s) => (s || "").replace(/\s+/g, " ").trim();
    const ownText = (el) => {
      const c = el.cloneNode(true);
      c.querySelectorAll(DATA).forEach((x) => x.remove());
      return squeeze(c.textContent);
    };
    const where = (el) => {
      let s = el.tagName.toLowerCase();
      if (el.id) s += "#" + el.id;
      else if (el.getAttribute("name")) s += `[name="${el.getAttribute("name")}"]`;
      else if (el.classList.length) s += "." + [...el.classList].join(".");
      const sec = el.closest("[id]");
      if (sec && sec !== el) s = `#${sec.id} ` + s;
      return s;
    };
    const push = (el, text, what = "") => {
      if (text) out.push({ where: where(el) + what, text });
    };
    const inData = (el) => el.closest(".user-name, #notif-list, a.lang, #icd-suggest, .thread, .menu.user .menu-panel p");

    const selectors = [
      "title", ".brand", "nav.mainnav", "h1", "h2", "h3", "legend", "label", "th", "button",
      "summary", ".status", ".pill", ".live-dot", ".alert", ".field-error", ".hint", ".empty",
      ".countdown", ".awaits-tag", "#queue-rows > p", ".kv > span.muted", ".meta span.muted",
      ".timeline b", ".vitals", ".pager", ".form-actions a", ".save-status", ".ok-note",
      "p.muted", ".field > span.muted", ".deadline-box .small", ".signatures > b",
    ];
    const seen = new Set();
    for (const el of document.querySelectorAll(selectors.join(", "))) {
      if (seen.has(el) || inData(el)) continue;
      seen.add(el);
      if (h1IsData && el.matches("h1, title")) continue;
      // "By the route table: ТКЦ ОКБ" — the words are chrome, the centre's name is not.
      if (el.matches("#actions p.hint")) {
        push(el, ownText(el).split(":")[0]);
        continue;
      }
      // "Returned for revision: <the dispatcher's comment>": the label is chrome, the comment is not.
      if (el.matches(".alert.warn") && el.querySelector("b")) {
        push(el, ownText(el.querySelector("b")));
        continue;
      }
      // "Dispatcher · КТЦ МИАЦ" (a role in an organization): the role is chrome.
      if (el.matches(".status") && el.textContent.includes("·")) {
        push(el, squeeze(el.textContent.split("·")[0]), " (role)");
        continue;
      }
      push(el, ownText(el));
    }
    // The roles in the user menu: "Dispatcher · КТЦ МИАЦ" — the role is chrome, the organization is not.
    for (const el of document.querySelectorAll(".menu.user .menu-panel p")) {
      for (const part of el.textContent.split(";")) push(el, squeeze(part.split("·")[0]), " (role)");
    }
    // Options of the lists whose items are the interface's own vocabulary.
    const vocab = [
      "status", "form_of_care", "profile", "purpose", "mode", "patient.sex", "reason_code", "effect", "role", "kind",
    ];
    for (const sel of document.querySelectorAll("select")) {
      if (!vocab.includes(sel.name)) continue;
      for (const o of sel.options) push(sel, squeeze(o.textContent), ` option[${o.value}]`);
    }
    for (const attr of ["placeholder", "title", "aria-label"]) {
      for (const el of document.querySelectorAll(`[${attr}]`)) {
        if (inData(el)) continue;
        push(el, squeeze(el.getAttribute(attr)), ` @${attr}`);
      }
    }
    return out;
  }, { h1IsData });
}

/**
 * Russian that belongs in the English interface, with the reason.
 * МКБ-10 titles exist in Russian only (reference/mkb10), so the search hint's
 * Russian example word is what an English-speaking doctor must type to search by name.
 */
const ALLOWED = [
  { where: /#sec-diagnosis span\.muted/, text: /^Start typing .*"инфаркт"\.?$/ },
];

/** Interface texts of the page that are Cyrillic (for English pages). */
export async function cyrillicChrome(page, opts) {
  return (await chromeTexts(page, opts)).filter((x) =>
    CYRILLIC.test(x.text) && !ALLOWED.some((a) => a.where.test(x.where) && a.text.test(x.text)));
}

/** Missing catalogue keys show as ⟦key⟧ anywhere in the page, attributes included. */
export async function missingKeys(page) {
  const html = await page.content();
  return [...new Set(html.match(/⟦[^⟧]*⟧/g) || [])];
}

/**
 * Checks the page now shown: its <html lang>, no missing message anywhere and,
 * in English, no Russian in the interface. Returns the problems found, each
 * naming the page.
 */
export async function checkPage(page, lang, label, { h1IsData = false } = {}) {
  const problems = [];
  const at = `${label} [${lang}] ${new URL(page.url()).pathname}`;
  const htmlLang = await page.locator("html").getAttribute("lang");
  if (htmlLang !== lang) problems.push(`${at}: <html lang="${htmlLang}">, expected "${lang}"`);
  for (const key of await missingKeys(page)) problems.push(`${at}: missing message ${key}`);
  if (lang === "en") {
    for (const x of await cyrillicChrome(page, { h1IsData })) {
      problems.push(`${at}: Russian in the English interface at ${x.where}: "${x.text}"`);
    }
  }
  return problems;
}
