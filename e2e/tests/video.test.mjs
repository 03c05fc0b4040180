// A video session in two browsers with fake cameras: the dispatcher books it,
// the doctor and the consultant enter the room, each receives the other's
// video (connection "connected", decoded frames increasing); somebody else is
// refused at the room; a reloaded page rejoins. Then the same with the ICE
// transport policy "relay": every packet through a coturn started here.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { world } from "../lib/harness.mjs";
import { DEMO_PASSWORD, config } from "../lib/config.mjs";
import { startServer } from "../lib/server.mjs";
import { newPerson, signIn } from "../lib/browser.mjs";
import { receivesVideo } from "../lib/media.mjs";

// A coturn on loopback for the relay-only test; the server mints credentials for it.
const TURN_PORT = 20000 + Math.floor(Math.random() * 20000);
const TURN_SECRET = randomBytes(16).toString("hex");
// coturn is required (.ci/run installs Debian's coturn): a missing one fails the test, never skips it.
process.env.RTMS_TURN_URL = `turn:127.0.0.1:${TURN_PORT}?transport=udp,turn:127.0.0.1:${TURN_PORT}?transport=tcp`;
process.env.RTMS_TURN_SECRET = TURN_SECRET;

const w = world("video", {
  browserArgs: [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
    "--autoplay-policy=no-user-gesture-required",
  ],
});

async function api(path, { token, method = "GET", body } = {}) {
  const resp = await fetch(w.server.url + path, {
    method,
    headers: {
      "content-type": "application/json",
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  let json = null;
  try { json = JSON.parse(text); } catch { json = text; }
  return { status: resp.status, json };
}

async function idOf(login) {
  return (await api("/api/v1/me", { token: await tokenOf(login) })).json.id;
}

/** Books a session `hoursAhead` from now for these users; returns its id. */
async function bookFor(logins, hoursAhead) {
  const ids = [];
  for (const login of logins) ids.push(await idOf(login));
  const r = await api("/api/v1/video", {
    token: await tokenOf("dispatcher"),
    method: "POST",
    body: { starts_at: new Date(Date.now() + hoursAhead * 3600_000).toISOString(), participant_ids: ids },
  });
  assert.equal(r.status, 201, JSON.stringify(r.json));
  return r.json.id;
}

async function tokenOf(login) {
  const r = await api("/api/v1/auth/login", { method: "POST", body: { login, password: DEMO_PASSWORD } });
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.token;
}

test("two participants see each other; an outsider is refused; a reload rejoins", async (t) => {
  const step = w.steps(t);
  let sessionId, doctor, consultant;

  await step("the dispatcher books a session for the doctor and the consultant", async () => {
    const dispatcher = await tokenOf("dispatcher");
    const ids = [];
    for (const login of ["doctor", "consultant"]) {
      const me = await api("/api/v1/me", { token: await tokenOf(login) });
      ids.push(me.json.id);
    }
    const r = await api("/api/v1/video", {
      token: dispatcher,
      method: "POST",
      body: { starts_at: new Date(Date.now() + 60_000).toISOString(), participant_ids: ids },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    sessionId = r.json.id;
  });

  await step("both enter the room and receive each other's video", async () => {
    doctor = await w.person("doctor");
    consultant = await w.person("consultant");
    await doctor.page.goto(`/video/${sessionId}`);
    await consultant.page.goto(`/video/${sessionId}`);
    await receivesVideo(doctor.page, 1);
    await receivesVideo(consultant.page, 1);
    await w.shot(doctor.page, "01-room-doctor");
  });

  await step("the participant list shows who is in the room", async () => {
    const present = doctor.page.locator("#video-people li.present");
    await present.first().waitFor();
    assert.ok((await present.count()) >= 1);
  });

  await step("somebody who is not a participant is refused at the room", async () => {
    const outsider = await w.person("consultant2");
    const resp = await outsider.page.goto(`/video/${sessionId}`);
    assert.equal(resp.status(), 404);
    await w.dismiss(outsider);
  });

  await step("a reloaded page rejoins the room", async () => {
    await doctor.page.reload();
    await receivesVideo(doctor.page, 1);
    await receivesVideo(consultant.page, 1);
  });

  await step.finish();
});

/** The candidate types of the page's selected candidate pairs (local side). */
async function selectedTypes(page) {
  return page.evaluate(async () => {
    const types = [];
    for (const peer of window.rtmsVideo.peers.values()) {
      const stats = await peer.pc.getStats();
      const byId = new Map();
      stats.forEach((s) => byId.set(s.id, s));
      stats.forEach((s) => {
        if (s.type === "transport" && s.selectedCandidatePairId) {
          const pair = byId.get(s.selectedCandidatePairId);
          const local = pair && byId.get(pair.localCandidateId);
          if (local) types.push(local.candidateType);
        }
      });
    }
    return types;
  });
}

test("relay only: the video goes through TURN with a credential the server minted", async (t) => {
  const step = w.steps(t);
  let turn, sessionId;
  t.after(() => turn?.kill("SIGTERM"));

  await step("coturn starts on loopback with the shared secret", async () => {
    turn = spawn("turnserver", [
      "-n", "--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1",
      "--listening-port", String(TURN_PORT), "--min-port", "49152", "--max-port", "65535",
      "--use-auth-secret", "--static-auth-secret", TURN_SECRET, "--realm", "rtms",
      "--no-tls", "--no-dtls", "--no-cli", "--allow-loopback-peers", "--log-file", "stdout",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, 3000);
      turn.once("exit", (code) => { clearTimeout(timer); reject(new Error(`turnserver exited: ${code}`)); });
    });
  });

  await step("the dispatcher books a second session", async () => {
    const dispatcher = await tokenOf("dispatcher");
    const ids = [];
    for (const login of ["doctor", "consultant"]) {
      ids.push((await api("/api/v1/me", { token: await tokenOf(login) })).json.id);
    }
    const r = await api("/api/v1/video", {
      token: dispatcher,
      method: "POST",
      body: { starts_at: new Date(Date.now() + 3 * 3600_000).toISOString(), participant_ids: ids },
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    sessionId = r.json.id;
  });

  await step("both receive video over relayed candidates only", async () => {
    const doctor = await w.person("doctor");
    const consultant = await w.person("consultant");
    await doctor.page.goto(`/video/${sessionId}?relay=1`);
    await consultant.page.goto(`/video/${sessionId}?relay=1`);
    await receivesVideo(doctor.page, 1);
    await receivesVideo(consultant.page, 1);
    assert.deepEqual(await selectedTypes(doctor.page), ["relay"]);
    assert.deepEqual(await selectedTypes(consultant.page), ["relay"]);
  });

  await step("the connection test page gets through TURN too", async () => {
    const nurse = await w.person("doctor");
    await nurse.page.goto("/video/check");
    await nurse.page.locator("#check-turn.ok").waitFor({ timeout: 20_000 });
    await w.shot(nurse.page, "02-connection-test-turn");
  });

  await step.finish();
});

test("three participants (a consilium): each receives the other two", async (t) => {
  const step = w.steps(t);
  let sessionId;
  const pages = [];
  await step("the dispatcher books a session for three", async () => {
    sessionId = await bookFor(["doctor", "consultant", "consultant2"], 6);
  });
  await step("all three enter and each decodes two video streams", async () => {
    for (const login of ["doctor", "consultant", "consultant2"]) {
      const p = await w.person(login);
      await p.page.goto(`/video/${sessionId}`);
      pages.push(p);
    }
    for (const p of pages) await receivesVideo(p.page, 2);
    await w.shot(pages[0].page, "03-room-three");
  });
  await step("one leaves; the other two still see each other", async () => {
    await pages[2].page.goto("/video");
    await w.dismiss(pages[2]);
    await receivesVideo(pages[0].page, 1);
    await receivesVideo(pages[1].page, 1);
  });
  await step.finish();
});

test("the connection test page checks the camera, the microphone and TURN", async (t) => {
  const step = w.steps(t);
  await step("the page reports the fake camera and the server as working", async () => {
    const doctor = await w.person("doctor");
    await doctor.page.goto("/video/check");
    await doctor.page.locator("#check-camera.ok").waitFor();
    await doctor.page.locator("#check-server.ok").waitFor();
    // The fake microphone plays a tone: the meter hears it.
    await doctor.page.locator("#check-mic.ok").waitFor({ timeout: 15_000 });
    await w.shot(doctor.page, "04-connection-test");
  });
  await step.finish();
});

test("two server instances on one PostgreSQL: a browser on each, they connect", { skip: config.db !== "postgres" && "several instances need PostgreSQL" }, async (t) => {
  const step = w.steps(t);
  let second, sessionId, far;
  t.after(async () => {
    await far?.context.close().catch(() => {});
    await second?.stop();
  });
  await step("a second instance starts on the same database", async () => {
    second = await startServer("video", { sharing: w.server });
    sessionId = await bookFor(["doctor", "consultant"], 9);
  });
  await step("the doctor on the first and the consultant on the second see each other", async () => {
    const near = await w.person("doctor");
    far = await newPerson(w.browser, second, "consultant");
    await signIn(far.page, "consultant");
    await near.page.goto(`/video/${sessionId}`);
    await far.page.goto(`/video/${sessionId}`);
    await receivesVideo(near.page, 1);
    await receivesVideo(far.page, 1);
    await w.shot(far.page, "05-second-instance");
  });
  await step.finish();
});
