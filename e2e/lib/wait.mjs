// Expect-like waiting: poll what the user sees until it is right or the time is up.
// No fixed sleeps: a test is as fast as the product and fails with what it saw.
import assert from "node:assert/strict";
import { config } from "./config.mjs";

/** Retries `fn` until it stops throwing; rethrows its last error after `timeout`. */
export async function eventually(fn, { timeout = config.timeout, interval = 100, message } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      if (message) last.message = `${message}: ${last.message}`;
      throw last;
    }
    await new Promise((r) => setTimeout(r, interval));
  }
}

const norm = (s) => (s ?? "").replace(/\s+/g, " ").trim();

function matches(actual, expected) {
  return expected instanceof RegExp ? expected.test(actual) : actual.includes(expected);
}

/** Waits until the locator's visible text contains `expected` (string or RegExp). */
export async function expectText(locator, expected, { timeout = config.timeout, message } = {}) {
  let actual = "<not found>";
  await eventually(async () => {
    await locator.first().waitFor({ state: "visible", timeout: 1000 });
    actual = norm(await locator.first().innerText());
    assert.ok(matches(actual, expected), "not yet");
  }, { timeout }).catch(() => {
    assert.fail(`${message ? message + ": " : ""}expected ${locator} to contain ${expected}, saw "${actual}"`);
  });
  return actual;
}

/** Waits until the locator's text is exactly `expected` (after collapsing spaces). */
export async function expectExactText(locator, expected, opts = {}) {
  const re = new RegExp("^" + expected.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "$");
  return expectText(locator, re, opts);
}

/** Waits until the locator is visible. */
export async function expectVisible(locator, { timeout = config.timeout, message } = {}) {
  try {
    await locator.first().waitFor({ state: "visible", timeout });
  } catch {
    assert.fail(`${message ? message + ": " : ""}${locator} did not become visible in ${timeout} ms`);
  }
}

/** Waits until the locator is gone or hidden. */
export async function expectHidden(locator, { timeout = config.timeout, message } = {}) {
  try {
    await locator.first().waitFor({ state: "hidden", timeout });
  } catch {
    assert.fail(`${message ? message + ": " : ""}${locator} is still visible after ${timeout} ms`);
  }
}

/** Waits until an input/select/textarea has the value. */
export async function expectValue(locator, expected, { timeout = config.timeout, message } = {}) {
  let actual;
  await eventually(async () => {
    actual = await locator.inputValue({ timeout: 1000 });
    assert.equal(actual, expected);
  }, { timeout }).catch(() => {
    assert.fail(`${message ? message + ": " : ""}expected ${locator} to hold "${expected}", it holds "${actual}"`);
  });
}
