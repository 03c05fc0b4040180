// The connection test: camera and microphone, the server, and a call from this
// browser to itself relayed by TURN (relay-only ICE, a data channel round trip),
// which is the path a session takes when the hospital network blocks the rest.
(function () {
  "use strict";
  var root = document.getElementById("video-check");
  if (!root) return;
  var t = function (k) { return root.getAttribute("data-t-" + k) || ""; };
  var ice = {};
  try { ice = JSON.parse(root.getAttribute("data-ice") || "{}"); } catch (e) { ice = {}; }
  var servers = (ice.ice_servers || []).map(function (s) {
    var o = { urls: s.urls };
    if (s.username) { o.username = s.username; o.credential = s.credential; }
    return o;
  });
  var stream = null;
  var meterTimer = null;

  function result(step, ok, text) {
    var li = document.getElementById("check-" + step);
    if (!li) return;
    li.classList.remove("ok", "fail");
    if (ok !== null) li.classList.add(ok ? "ok" : "fail");
    li.querySelector(".check-result").textContent = (ok === null ? "" : (ok ? t("ok") : t("fail")) + ": ") + text;
  }

  async function devices() {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
    } catch (e) {
      var denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError");
      result("camera", false, denied ? t("denied") : t("no-devices"));
      result("mic", false, denied ? t("denied") : t("no-devices"));
      return;
    }
    document.getElementById("check-video").srcObject = stream;
    var v = stream.getVideoTracks()[0];
    var settings = v ? v.getSettings() : {};
    result("camera", !!v, v ? (v.label || "") + (settings.width ? " · " + settings.width + "×" + settings.height : "") : t("no-devices"));
    var a = stream.getAudioTracks()[0];
    if (!a) { result("mic", false, t("no-devices")); return; }
    // The level meter moves when someone speaks.
    var ctx = new (window.AudioContext || window.webkitAudioContext)();
    // A browser may create it suspended (autoplay rules); the meter would then
    // read silence and report no sound.
    if (ctx.state === "suspended" && ctx.resume) ctx.resume().catch(function () {});
    var analyser = ctx.createAnalyser();
    // A window longer than the polling interval (16384 samples, about a third
    // of a second), so that no sound falls between two readings: a short beep
    // or a consonant was missed when each reading saw only 10 ms.
    analyser.fftSize = 16384;
    ctx.createMediaStreamSource(stream).connect(analyser);
    var data = new Uint8Array(analyser.fftSize);
    var heard = false;
    var meter = document.getElementById("check-level");
    clearInterval(meterTimer);
    result("mic", null, a.label || "");
    meterTimer = setInterval(function () {
      analyser.getByteTimeDomainData(data);
      var peak = 0;
      for (var i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i] - 128));
      var level = Math.min(100, Math.round(peak / 1.28));
      meter.value = level;
      if (level > 3 && !heard) { heard = true; result("mic", true, t("sound")); }
    }, 100);
    setTimeout(function () { if (!heard) result("mic", false, t("no-sound")); }, 8000);
  }

  async function server() {
    try {
      var started = performance.now();
      var r = await fetch("/healthz", { cache: "no-store" });
      if (!r.ok) throw new Error(String(r.status));
      result("server", true, t("server-ok") + " · " + Math.round(performance.now() - started) + " ms");
    } catch (e) {
      result("server", false, t("server-fail"));
    }
  }

  // Two connections in this page, both allowed relay candidates only: if a
  // message goes from one to the other, TURN carries this network's traffic.
  function turn() {
    if (!servers.length) { result("turn", false, t("no-turn")); return Promise.resolve(); }
    return new Promise(function (resolve) {
      var config = { iceServers: servers, iceTransportPolicy: "relay" };
      var a = new RTCPeerConnection(config), b = new RTCPeerConnection(config);
      var done = false;
      function finish(ok, text) {
        if (done) return;
        done = true;
        result("turn", ok, text);
        a.close(); b.close();
        resolve();
      }
      a.onicecandidate = function (e) { if (e.candidate) b.addIceCandidate(e.candidate).catch(function () {}); };
      b.onicecandidate = function (e) { if (e.candidate) a.addIceCandidate(e.candidate).catch(function () {}); };
      var channel = a.createDataChannel("check");
      var sent = 0;
      channel.onopen = function () { sent = performance.now(); channel.send("ping"); };
      b.ondatachannel = function (e) {
        e.channel.onmessage = function () { e.channel.send("pong"); };
      };
      channel.onmessage = function () {
        finish(true, t("turn-ok") + " · " + Math.round(performance.now() - sent) + " ms");
      };
      a.createOffer()
        .then(function (o) { return a.setLocalDescription(o); })
        .then(function () { return b.setRemoteDescription(a.localDescription); })
        .then(function () { return b.createAnswer(); })
        .then(function (ans) { return b.setLocalDescription(ans); })
        .then(function () { return a.setRemoteDescription(b.localDescription); })
        .catch(function () { finish(false, t("turn-fail")); });
      setTimeout(function () { finish(false, t("turn-fail")); }, 15000);
    });
  }

  function run() {
    ["camera", "mic", "server", "turn"].forEach(function (s) { result(s, null, t("running")); });
    if (stream) stream.getTracks().forEach(function (tr) { tr.stop(); });
    devices();
    server();
    turn();
  }
  document.getElementById("check-again").addEventListener("click", run);
  run();
})();
