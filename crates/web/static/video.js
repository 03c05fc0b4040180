// The video room: a mesh of WebRTC connections between the participants (up to
// six), signaled through the server's WebSocket. The newcomer offers to everyone
// already in the room; the others answer, so two offers never cross.
(function () {
  "use strict";
  var root = document.getElementById("video-room");
  if (!root) return;

  var t = function (k) { return root.getAttribute("data-t-" + k) || ""; };
  var ice = {};
  try { ice = JSON.parse(root.getAttribute("data-ice") || "{}"); } catch (e) { ice = {}; }
  var params = new URLSearchParams(location.search);
  var config = {
    iceServers: (ice.ice_servers || []).map(function (s) {
      var o = { urls: s.urls };
      if (s.username) { o.username = s.username; o.credential = s.credential; }
      return o;
    }),
    // ?relay=1 forces the TURN path (the connection test and the tests use it).
    iceTransportPolicy: params.get("relay") === "1" ? "relay" : "all"
  };

  var grid = document.getElementById("video-grid");
  var statusLine = document.getElementById("video-status");
  var localVideo = document.getElementById("video-local");
  var peers = new Map(); // peer id -> {pc, user, name, tile, pending: []}
  var localStream = null;
  var screenTrack = null;
  var ws = null;
  var myId = null;
  var known = new Map(); // peer id -> {user_id, name}, from the server's announcements

  // For tests and troubleshooting: the live connections.
  window.rtmsVideo = { peers: peers };

  function setStatus(text) { if (statusLine) statusLine.textContent = text; }

  function markPresence(userId, present) {
    var li = document.querySelector('#video-people li[data-user="' + userId + '"]');
    if (!li) return;
    li.classList.toggle("absent", !present);
    li.classList.toggle("present", present);
    var span = li.querySelector("[data-presence]");
    if (span) span.textContent = present ? t("present") : t("absent");
  }

  function send(msg) {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
  }

  function tileFor(id, name) {
    var fig = document.createElement("figure");
    fig.className = "video-tile";
    fig.setAttribute("data-peer", String(id));
    var video = document.createElement("video");
    video.autoplay = true;
    video.playsInline = true;
    var cap = document.createElement("figcaption");
    cap.textContent = name;
    var state = document.createElement("span");
    state.className = "video-state";
    state.textContent = t("connecting");
    cap.appendChild(document.createTextNode(" "));
    cap.appendChild(state);
    fig.appendChild(video);
    fig.appendChild(cap);
    grid.appendChild(fig);
    return fig;
  }

  function stateText(state) {
    if (state === "connected") return t("connected");
    if (state === "failed" || state === "disconnected" || state === "closed") return t("lost");
    return t("connecting");
  }

  function updateSummary() {
    var n = 0;
    peers.forEach(function (p) { if (p.pc.connectionState === "connected") n++; });
    setStatus(peers.size === 0 ? t("alone") : t("connected") + ": " + n + " / " + peers.size);
  }

  function makePeer(id, userId, name) {
    var pc = new RTCPeerConnection(config);
    var peer = { pc: pc, user: userId, name: name, tile: tileFor(id, name), pending: [] };
    peers.set(id, peer);
    if (localStream) {
      localStream.getTracks().forEach(function (track) {
        var sent = track.kind === "video" && screenTrack ? screenTrack : track;
        pc.addTrack(sent, localStream);
      });
    }
    pc.onicecandidate = function (ev) {
      if (ev.candidate) send({ type: "ice", to: id, candidate: ev.candidate });
    };
    pc.ontrack = function (ev) {
      var v = peer.tile.querySelector("video");
      if (v.srcObject !== ev.streams[0]) v.srcObject = ev.streams[0];
    };
    pc.onconnectionstatechange = function () {
      var s = peer.tile.querySelector(".video-state");
      s.textContent = stateText(pc.connectionState);
      peer.tile.setAttribute("data-state", pc.connectionState);
      updateSummary();
    };
    markPresence(userId, true);
    return peer;
  }

  function dropPeer(id) {
    var peer = peers.get(id);
    if (!peer) return;
    peer.pc.close();
    peer.tile.remove();
    peers.delete(id);
    var still = false;
    peers.forEach(function (p) { if (p.user === peer.user) still = true; });
    if (!still) markPresence(peer.user, false);
    updateSummary();
  }

  async function flush(peer) {
    while (peer.pending.length) {
      try { await peer.pc.addIceCandidate(peer.pending.shift()); } catch (e) { /* stale */ }
    }
  }

  async function offerTo(id, userId, name) {
    var peer = makePeer(id, userId, name);
    var offer = await peer.pc.createOffer();
    await peer.pc.setLocalDescription(offer);
    send({ type: "offer", to: id, sdp: peer.pc.localDescription });
  }

  async function onMessage(msg) {
    switch (msg.type) {
      case "welcome":
        myId = msg.id;
        markPresence(root.getAttribute("data-me"), true);
        for (var i = 0; i < msg.peers.length; i++) {
          var p = msg.peers[i];
          await offerTo(p.id, p.user_id, p.name);
        }
        updateSummary();
        break;
      case "peer-joined":
        // The newcomer will offer; its tile appears with the offer.
        known.set(msg.id, msg);
        markPresence(msg.user_id, true);
        break;
      case "peer-left":
        dropPeer(msg.id);
        break;
      case "offer": {
        var peer = peers.get(msg.from);
        var who = known.get(msg.from) || { user_id: 0, name: "" };
        if (peer && peer.pc.signalingState === "have-local-offer") {
          // Both offered at once (they entered together, on two instances):
          // the peer whose id is smaller (compared as text) withdraws its
          // offer and answers; the other keeps its own and ignores this one.
          if (String(myId) > String(msg.from)) break;
          await peer.pc.setLocalDescription({ type: "rollback" });
        }
        if (!peer) peer = makePeer(msg.from, who.user_id, who.name);
        await peer.pc.setRemoteDescription(msg.sdp);
        await flush(peer);
        var answer = await peer.pc.createAnswer();
        await peer.pc.setLocalDescription(answer);
        send({ type: "answer", to: msg.from, sdp: peer.pc.localDescription });
        break;
      }
      case "answer": {
        var a = peers.get(msg.from);
        if (a) { await a.pc.setRemoteDescription(msg.sdp); await flush(a); }
        break;
      }
      case "ice": {
        var c = peers.get(msg.from);
        if (!c) break;
        if (c.pc.remoteDescription) {
          try { await c.pc.addIceCandidate(msg.candidate); } catch (e) { /* stale */ }
        } else {
          c.pending.push(msg.candidate);
        }
        break;
      }
    }
  }

  var queue = Promise.resolve();
  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(scheme + location.host + root.getAttribute("data-ws"));
    ws.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      // One message at a time: descriptions must be applied in order.
      queue = queue.then(function () { return onMessage(msg); }).catch(function (e) {
        console.warn("signaling", e);
      });
    };
    ws.onclose = function () {
      peers.forEach(function (_, id) { dropPeer(id); });
      setStatus(t("reconnecting"));
      setTimeout(connect, 2000);
    };
  }

  function toggle(button, on) {
    button.textContent = on ? button.getAttribute("data-on") : button.getAttribute("data-off");
    button.setAttribute("aria-pressed", on ? "false" : "true");
  }

  document.getElementById("video-mic").addEventListener("click", function () {
    if (!localStream) return;
    var tracks = localStream.getAudioTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (tr) { tr.enabled = on; });
    toggle(this, on);
  });
  document.getElementById("video-cam").addEventListener("click", function () {
    if (!localStream) return;
    var tracks = localStream.getVideoTracks();
    var on = tracks.length && !tracks[0].enabled;
    tracks.forEach(function (tr) { tr.enabled = on; });
    toggle(this, on);
  });

  function replaceVideo(track) {
    peers.forEach(function (p) {
      p.pc.getSenders().forEach(function (s) {
        if (s.track && s.track.kind === "video") s.replaceTrack(track);
      });
    });
    localVideo.srcObject = track === (localStream && localStream.getVideoTracks()[0])
      ? localStream : new MediaStream([track]);
  }

  var screenButton = document.getElementById("video-screen");
  screenButton.addEventListener("click", async function () {
    if (screenTrack) {
      screenTrack.stop();
      screenTrack = null;
      if (localStream && localStream.getVideoTracks()[0]) replaceVideo(localStream.getVideoTracks()[0]);
      toggle(screenButton, false);
      return;
    }
    try {
      var display = await navigator.mediaDevices.getDisplayMedia({ video: true });
      screenTrack = display.getVideoTracks()[0];
      screenTrack.onended = function () { if (screenTrack) screenButton.click(); };
      replaceVideo(screenTrack);
      toggle(screenButton, true);
    } catch (e) { /* the user said no */ }
  });

  // A browser without WebRTC (Internet Explorer, some Linux WebKit builds)
  // cannot take part: say so plainly and stay out of the room, so that the
  // others do not wait for a connection that cannot come. The request and
  // its thread beside the room still work.
  if (typeof window.RTCPeerConnection !== "function" || !navigator.mediaDevices) {
    setStatus(t("no-webrtc"));
    if (statusLine) statusLine.setAttribute("role", "alert");
    ["video-mic", "video-cam", "video-screen"].forEach(function (b) { document.getElementById(b).disabled = true; });
    return;
  }

  (async function start() {
    try {
      localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
      localVideo.srcObject = localStream;
    } catch (e) {
      setStatus(t("no-camera"));
      try {
        localStream = await navigator.mediaDevices.getUserMedia({ audio: true });
      } catch (e2) { localStream = null; }
    }
    connect();
  })();
})();
