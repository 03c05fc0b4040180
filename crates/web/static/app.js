// РТМС: the little that plain HTML and htmx do not do by themselves.
// No inline script anywhere (the CSP forbids it); everything hangs on data- attributes.
(function () {
  "use strict";
  // A script error in any page is told to the server (its log, target
  // rtms::browser), so that a page broken in some hospital's browser is
  // known without a phone call. This file runs before the others for that.
  var reported = 0;
  function report(message, source, line) {
    if (reported >= 5 || !navigator.sendBeacon) return;
    reported += 1;
    var body = JSON.stringify({ "script-error": {
      page: location.pathname, message: String(message || "").slice(0, 300),
      source: String(source || "").slice(0, 300), line: line || 0 } });
    navigator.sendBeacon("/browser-report", new Blob([body], { type: "application/json" }));
  }
  window.addEventListener("error", function (e) {
    if (e.message) report(e.message, e.filename, e.lineno);
  });
  window.addEventListener("unhandledrejection", function (e) {
    report("unhandled rejection: " + (e.reason && e.reason.message || e.reason), "", 0);
  });

  // A form sent back with mistakes: the keyboard starts at the first wrong
  // field, whose message a screen reader reads with it (aria-describedby).
  document.addEventListener("DOMContentLoaded", function () {
    var wrong = document.querySelector('form [aria-invalid="true"]');
    if (wrong && !document.activeElement.matches("input, textarea, select")) wrong.focus();
  });

  var lang = document.body.dataset.lang === "en" ? "en" : "ru";
  var words = {
    ru: { d: "д", h: "ч", m: "мин", left: "осталось ", late: "просрочен на ", paused: "на паузе, осталось ", open: "Открыть", emergency: "Экстренный запрос", no: "№" },
    en: { d: "d", h: "h", m: "min", left: "", late: "", paused: "paused, ", open: "Open", emergency: "Emergency request", no: "No." }
  }[lang];

  function span(seconds) {
    var s = Math.abs(seconds), d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + " " + words.d + " " + h + " " + words.h;
    if (h > 0) return h + " " + words.h + " " + m + " " + words.m;
    return m + " " + words.m;
  }

  // Deadlines count down in place; colour follows the share of time used.
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-deadline]").forEach(function (el) {
      if (!el.dataset.deadline || el.dataset.paused) return;
      var rem = Math.round((Date.parse(el.dataset.deadline) - now) / 1000);
      var budget = parseInt(el.dataset.budget || "0", 10);
      var cls = "ok";
      if (rem < 0) cls = "overdue";
      else if (budget > 0 && 1 - rem / budget >= 0.9) cls = "danger";
      else if (budget > 0 && 1 - rem / budget >= 0.75) cls = "warn";
      el.textContent = rem < 0
        ? (lang === "en" ? span(rem) + " overdue" : words.late + span(rem))
        : (lang === "en" ? span(rem) + " left" : words.left + span(rem));
      el.className = "countdown u-" + cls;
      var row = el.closest("tr");
      if (row) row.className = row.className.replace(/row-\w+/, "row-" + cls);
    });
  }
  setInterval(tick, 30000);

  // A queue row opens its request.
  document.addEventListener("click", function (e) {
    var row = e.target.closest("tr[data-href]");
    if (row && !e.target.closest("a, button, input, select")) window.location = row.dataset.href;
    // МКБ-10 suggestion: fill the field and save.
    var pick = e.target.closest("[data-icd-code]");
    if (pick) {
      var input = document.querySelector('[name="' + pick.dataset.icdTarget + '"]');
      if (input) {
        input.value = pick.dataset.icdCode;
        input.dispatchEvent(new Event("change", { bubbles: true }));
        input.focus();
      }
      var box = pick.closest(".suggest-box");
      if (box) box.innerHTML = "";
    }
    // Menus close when clicking elsewhere.
    document.querySelectorAll("details.menu[open]").forEach(function (d) {
      if (!d.contains(e.target)) d.removeAttribute("open");
    });
  });

  // The profile's hint of what a good request includes.
  document.addEventListener("change", function (e) {
    var sel = e.target.closest("select[data-hint-target]");
    if (!sel) return;
    var box = document.getElementById(sel.dataset.hintTarget);
    var opt = sel.options[sel.selectedIndex];
    var hint = opt && opt.dataset.hint ? opt.dataset.hint : "";
    if (box) {
      box.querySelector("span").textContent = hint;
      box.hidden = !hint;
    }
  });

  document.addEventListener("htmx:afterRequest", function (e) {
    if (e.detail.elt && e.detail.elt.hasAttribute("data-clears-badge")) setBadge(0);
  });

  function setBadge(n) {
    var badge = document.getElementById("notif-count");
    if (!badge) return;
    badge.textContent = String(n);
    badge.classList.toggle("hidden", n <= 0);
  }

  function banner(data) {
    var el = document.getElementById("live-banner");
    if (!el) return;
    el.textContent = "";
    var text = document.createElement("span");
    text.textContent = data.text + " · " + words.no + " " + data.consultation_id + " ";
    var link = document.createElement("a");
    link.href = "/requests/" + data.consultation_id;
    link.textContent = words.open;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "linklike";
    close.textContent = "×";
    close.addEventListener("click", function () { el.classList.add("hidden"); });
    el.append(text, link, close);
    el.classList.toggle("emergency", !!data.emergency);
    el.classList.remove("hidden");
  }

  // Live updates: notifications for me, and a refresh of the queue when anything changes.
  if (document.body.dataset.live && window.EventSource) {
    var source = new EventSource(document.body.dataset.live);
    source.addEventListener("notification", function (e) {
      var data = JSON.parse(e.data);
      var badge = document.getElementById("notif-count");
      setBadge((parseInt(badge ? badge.textContent : "0", 10) || 0) + 1);
      banner(data);
      if (ALARMING[data.kind]) alarm(data);
      refreshQueue();
    });
    source.addEventListener("queue", refreshQueue);
  }

  // Emergencies and duty calls ring: a tone (no sound file) and, when the
  // user allowed it, a system notification that opens the request.
  var ALARMING = { emergency: true, duty_call: true, duty_alarm: true };
  function alarm(data) {
    document.body.dataset.alarmed = data.kind;
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx) {
        var ctx = alarm.ctx || (alarm.ctx = new Ctx());
        [0, 0.35, 0.7].forEach(function (at) {
          var osc = ctx.createOscillator();
          var gain = ctx.createGain();
          osc.frequency.value = 880;
          gain.gain.value = 0.2;
          osc.connect(gain);
          gain.connect(ctx.destination);
          osc.start(ctx.currentTime + at);
          osc.stop(ctx.currentTime + at + 0.2);
        });
      }
    } catch (err) { /* no sound: the banner still shows */ }
    if (window.Notification && Notification.permission === "granted") {
      var n = new Notification(data.text, { body: words.no + " " + data.consultation_id, tag: "rtms-" + data.consultation_id, requireInteraction: true });
      n.onclick = function () { window.focus(); window.location.href = "/requests/" + data.consultation_id; };
    }
  }
  var notifyButton = document.getElementById("duty-notify");
  if (notifyButton && window.Notification && Notification.permission === "default") {
    notifyButton.hidden = false;
    notifyButton.addEventListener("click", function () {
      Notification.requestPermission().then(function () { notifyButton.hidden = true; });
    });
  }

  // Reloads the queue's rows with the current filters, without a history entry.
  function refreshQueue() {
    var form = document.getElementById("queue-filters");
    if (!form || !window.htmx) return;
    var query = new URLSearchParams(new FormData(form)).toString();
    window.htmx.ajax("GET", "/queue?" + query, { target: "#queue-rows", swap: "outerHTML" });
  }
  // Forms that undo something ask first (data-confirm holds the question).
  document.addEventListener("submit", function (e) {
    var q = e.target && e.target.dataset ? e.target.dataset.confirm : null;
    if (q && !window.confirm(q)) e.preventDefault();
  });
})();
