// What a video room's page receives: its WebRTC connections' states and the
// video frames it has decoded (the room exposes them as window.rtmsVideo).
// Works with playwright's pages and with lib/webdriver.mjs's.
import assert from "node:assert/strict";

/** Decoded video frames summed over the page's connections, and their states. */
export async function mediaState(page) {
  return page.evaluate(async () => {
    const out = { states: [], frames: 0 };
    for (const peer of window.rtmsVideo.peers.values()) {
      out.states.push(peer.pc.connectionState);
      const stats = await peer.pc.getStats();
      stats.forEach((s) => {
        if (s.type === "inbound-rtp" && s.kind === "video") out.frames += s.framesDecoded || 0;
      });
    }
    return out;
  });
}

/** Waits until the page is connected to `n` peers and their video keeps decoding. */
export async function receivesVideo(page, n) {
  const deadline = Date.now() + 30_000;
  let last = null;
  while (Date.now() < deadline) {
    last = await mediaState(page);
    if (last.states.length === n && last.states.every((s) => s === "connected") && last.frames > 0) break;
    await page.waitForTimeout(250);
  }
  assert.equal(last.states.length, n, `connections: ${JSON.stringify(last)}`);
  assert.ok(last.states.every((s) => s === "connected"), `states: ${JSON.stringify(last)}`);
  const before = last.frames;
  await page.waitForTimeout(1500);
  const after = await mediaState(page);
  assert.ok(after.frames > before, `decoded frames should grow: ${before} → ${after.frames}`);
}
