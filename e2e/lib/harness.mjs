// One test file's world: its own server (fresh database, demo region), one
// chromium, and the people signed in to it. Failures leave screenshots of
// every open page and the server log under artifacts/<db>/.
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { startServer } from "./server.mjs";
import { launchBrowser, newPerson, signIn, shot } from "./browser.mjs";

/**
 * Registers before/after hooks for the current test file and returns its world.
 * @param {string} name short name of the file, used for artifact names
 * @param {{browserArgs?: string[]}} [opts] extra chromium flags (fake camera, …)
 */
export function world(name, opts = {}) {
  const w = {
    name,
    server: null,
    browser: null,
    people: [],

    /** A new browser context signed in as `login` (lang: "ru" | "en"). */
    async person(login, opts = {}) {
      const p = await newPerson(w.browser, w.server, login, opts);
      w.people.push(p);
      if (opts.signIn !== false) await signIn(p.page, login);
      return p;
    },

    /** Screenshot with the file's name as a prefix. */
    shot(page, what) {
      return shot(page, `${name}-${what}`);
    },

    async photographFailure(label) {
      const slug = label.replace(/[^\p{L}\p{N}]+/gu, "-").slice(0, 60);
      for (const p of w.people) {
        if (!p.page.isClosed()) await shot(p.page, `${name}-FAILED-${slug}-${p.who}`).catch(() => {});
      }
    },

    /** Fails if any page had a script error or a CSP refusal since the last check. */
    checkPages() {
      const problems = w.people.flatMap((p) => p.problems.splice(0));
      assert.deepEqual(problems, [], "script errors or CSP refusals in the pages");
    },

    /** Closes a person's browser context (their pages are no longer photographed). */
    async dismiss(person) {
      w.people = w.people.filter((p) => p !== person);
      await person.context.close().catch(() => {});
    },

    /** Runs a test body; on failure, photographs every open page first. */
    async run(body, { label = "test" } = {}) {
      try {
        await body();
      } catch (e) {
        await w.photographFailure(label);
        e.message += `\n(screenshots: artifacts/*/${name}-FAILED-*.png; server log: ${w.server?.logPath})`;
        throw e;
      }
      w.checkPages();
    },

    /**
     * Steps of one scenario as subtests of `t`, so that the report says which step
     * broke. A failed step skips the rest, except a `soft` one: a check whose
     * failure is reported but leaves the scenario able to go on.
     */
    steps(t) {
      let broken = null;
      const step = async (label, fn, { soft = false } = {}) => {
        if (broken) {
          await t.test(label, { skip: `an earlier step failed: ${broken}` }, () => {});
          return;
        }
        let failed = false;
        await t.test(label, async () => {
          try {
            await fn();
          } catch (e) {
            failed = true;
            await w.photographFailure(label);
            e.message += `\n(screenshots: artifacts/*/${name}-FAILED-*.png; server log: ${w.server?.logPath})`;
            throw e;
          }
        });
        if (failed && !soft) broken = label;
      };
      step.finish = () => t.test("no script errors or CSP refusals in any page", () => w.checkPages());
      return step;
    },
  };

  before(async () => {
    w.server = await startServer(name);
    w.browser = await launchBrowser(opts.browserArgs || []);
  });

  after(async () => {
    for (const p of w.people) await p.context.close().catch(() => {});
    await w.browser?.close().catch(() => {});
    await w.server?.stop();
  });

  return w;
}
