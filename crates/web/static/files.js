// Attachments: a resumable uploader speaking tus 1.0 to /api/v1/uploads, and
// the DICOM study viewer. No inline script anywhere (the CSP forbids it);
// texts come from data-t-* attributes the server renders in the user's language.
(function () {
  "use strict";

  var CHUNK = 16 * 1024 * 1024; // one PATCH per 16 MB: progress and resumption points
  var TUS = { "Tus-Resumable": "1.0.0" };

  function b64(s) {
    return btoa(unescape(encodeURIComponent(s)));
  }

  function texts(el) {
    return function (k) {
      return el.getAttribute("data-t-" + k) || k;
    };
  }

  // A problem+json answer's message, or the HTTP status.
  function problem(xhrOrResp, body) {
    try {
      var j = JSON.parse(body);
      return j.title + (j.detail ? " — " + j.detail : "");
    } catch (e) {
      return "HTTP " + xhrOrResp.status;
    }
  }

  function sleep(ms) {
    return new Promise(function (r) { setTimeout(r, ms); });
  }

  // One PATCH with upload progress (fetch has none, so XMLHttpRequest).
  function patch(url, offset, blob, onProgress) {
    return new Promise(function (resolve) {
      var x = new XMLHttpRequest();
      x.open("PATCH", url);
      x.setRequestHeader("Tus-Resumable", "1.0.0");
      x.setRequestHeader("Upload-Offset", String(offset));
      x.setRequestHeader("Content-Type", "application/offset+octet-stream");
      x.upload.onprogress = function (e) { onProgress(offset + e.loaded); };
      x.onload = function () { resolve({ net: false, status: x.status, xhr: x, body: x.responseText }); };
      x.onerror = x.ontimeout = x.onabort = function () { resolve({ net: true }); };
      x.send(blob);
    });
  }

  async function head(url) {
    try {
      var r = await fetch(url, { method: "HEAD", headers: TUS, credentials: "same-origin" });
      if (!r.ok) return { gone: true };
      return {
        offset: Number(r.headers.get("Upload-Offset") || 0),
        attachment: r.headers.get("Attachment-Id")
      };
    } catch (e) {
      return { net: true };
    }
  }

  // Uploads one file; resumes an earlier upload of the same file if there is one.
  async function upload(file, consultation, message, ui) {
    var key = "rtms-upload:" + consultation + ":" + (message || "") + ":" + file.name + ":" + file.size + ":" + file.lastModified;
    var url = localStorage.getItem(key);
    var offset = 0;
    if (url) {
      var h = await head(url);
      if (h.attachment) { localStorage.removeItem(key); return ui.done(); }
      if (h.gone) { url = null; } else if (!h.net) { offset = h.offset; }
    }
    if (!url) {
      var meta = "filename " + b64(file.name) + ",consultation " + b64(String(consultation));
      // A file for one message of the thread goes with that message.
      if (message) meta += ",message " + b64(String(message));
      var r = await fetch("/api/v1/uploads", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Tus-Resumable": "1.0.0", "Upload-Length": String(file.size), "Upload-Metadata": meta }
      });
      if (r.status !== 201) return ui.fail(problem(r, await r.text()));
      url = r.headers.get("Location");
      localStorage.setItem(key, url);
    }
    ui.progress(offset, file.size);
    var wait = 1000;
    for (;;) {
      var end = Math.min(offset + CHUNK, file.size);
      ui.state(end === file.size ? "checking-soon" : "sending");
      var res = await patch(url, offset, file.slice(offset, end), function (n) { ui.progress(n, file.size); });
      if (res.net || res.status >= 500 || res.status === 409 || res.status === 400) {
        // Dropped connection or a server restart: ask where we are and go on.
        if (res.status >= 500 && res.status !== 503) return ui.fail(problem(res.xhr, res.body));
        ui.state("retrying");
        await sleep(wait);
        wait = Math.min(wait * 2, 30000);
        var hh = await head(url);
        if (hh.attachment) { localStorage.removeItem(key); return ui.done(); }
        if (hh.gone) { localStorage.removeItem(key); return ui.fail(ui.t("upload-failed")); }
        if (!hh.net) offset = hh.offset;
        continue;
      }
      if (res.status !== 204) {
        localStorage.removeItem(key);
        return ui.fail(problem(res.xhr, res.body));
      }
      wait = 1000;
      offset = Number(res.xhr.getResponseHeader("Upload-Offset"));
      ui.progress(offset, file.size);
      if (res.xhr.getResponseHeader("Attachment-Id")) {
        localStorage.removeItem(key);
        return ui.done();
      }
    }
  }

  // Re-reads the page's file list after uploads, keeping everything else as typed.
  async function refreshList() {
    try {
      var r = await fetch(location.pathname, { credentials: "same-origin" });
      var doc = new DOMParser().parseFromString(await r.text(), "text/html");
      var fresh = doc.getElementById("file-list");
      var list = document.getElementById("file-list");
      if (fresh && list) list.innerHTML = fresh.innerHTML;
      var empty = document.getElementById("files-empty");
      if (empty && list && list.children.length) empty.remove();
    } catch (e) { /* the list shows on the next load */ }
  }

  async function refreshThread() {
    try {
      var r = await fetch(location.pathname, { credentials: "same-origin" });
      var doc = new DOMParser().parseFromString(await r.text(), "text/html");
      var fresh = doc.querySelector("#thread .thread");
      var thread = document.querySelector("#thread .thread");
      if (fresh && thread) {
        thread.innerHTML = fresh.innerHTML;
        thread.querySelectorAll("[data-upload-consultation]").forEach(setupUploader);
      }
    } catch (e) { /* the files show on the next load */ }
  }

  function setupUploader(box) {
    var t = texts(box);
    var input = box.querySelector("[data-upload-input]");
    var list = box.querySelector(".upload-list");
    var consultation = box.getAttribute("data-upload-consultation");
    var message = box.getAttribute("data-upload-message");
    var max = Number(box.getAttribute("data-max"));
    var running = 0;
    window.addEventListener("beforeunload", function (e) {
      if (running > 0) { e.preventDefault(); e.returnValue = t("upload-leave"); }
    });
    input.addEventListener("change", async function () {
      var files = Array.prototype.slice.call(input.files);
      input.value = "";
      for (var i = 0; i < files.length; i++) {
        var f = files[i];
        var li = document.createElement("li");
        li.className = "upload";
        var name = document.createElement("span");
        name.className = "name";
        name.textContent = f.name;
        var bar = document.createElement("progress");
        bar.max = 100;
        bar.value = 0;
        var st = document.createElement("span");
        st.className = "small muted state";
        st.textContent = t("upload-waiting");
        li.append(name, " ", bar, " ", st);
        list.append(li);
        f._ui = {
          t: t,
          progress: (function (bar, st) {
            return function (n, total) {
              var pct = total ? Math.floor((n * 100) / total) : 100;
              bar.value = pct;
              // The last byte is sent: the server now checks and stores the file.
              st.textContent = n >= total ? t("upload-checking") : pct + " %";
            };
          })(bar, st),
          state: (function (st, li) {
            return function (s) {
              li.setAttribute("data-state", s);
              if (s === "retrying") st.textContent = t("upload-retrying");
            };
          })(st, li),
          done: (function (st, li, bar) {
            return function () {
              bar.value = 100;
              li.setAttribute("data-state", "done");
              st.textContent = t("upload-done");
            };
          })(st, li, bar),
          fail: (function (st, li) {
            return function (msg) {
              li.setAttribute("data-state", "failed");
              li.classList.add("failed");
              st.textContent = t("upload-failed") + ": " + msg;
              st.setAttribute("role", "alert");
            };
          })(st, li)
        };
        if (max && f.size > max) f._ui.fail(t("upload-too-large"));
      }
      running++;
      for (var j = 0; j < files.length; j++) {
        if (max && files[j].size > max) continue;
        try {
          await upload(files[j], consultation, message, files[j]._ui);
        } catch (e) {
          files[j]._ui.fail(String(e));
        }
      }
      running--;
      // A message's files show under it once the thread is read again.
      if (message) await refreshThread(); else await refreshList();
    });
  }

  // ---- the DICOM viewer -------------------------------------------------

  function setupViewer(v) {
    var t = texts(v);
    var id = v.getAttribute("data-viewer");
    var study = JSON.parse(v.getAttribute("data-study") || "null");
    if (!study || !study.studies || !study.studies.length) return;
    var img = v.querySelector("img.frame");
    var label = v.querySelector(".frame-label");
    var slider = v.querySelector("input[type=range]");
    var seriesList = v.querySelectorAll("[data-series]");
    var presets = v.querySelectorAll("[data-preset]");
    var cur = { study: 0, series: 0, index: 0, preset: "default" };
    var items = [];

    // Every (instance, frame) of a series, in order: paging goes through all.
    function build() {
      items = [];
      var s = study.studies[cur.study].series[cur.series];
      s.instances.forEach(function (inst, i) {
        for (var f = 0; f < Math.max(1, inst.frames); f++) items.push({ instance: i, frame: f });
      });
      slider.max = String(Math.max(0, items.length - 1));
    }

    function show() {
      var it = items[cur.index];
      if (!it) return;
      slider.value = String(cur.index);
      label.textContent = t("viewer-image") + " " + (cur.index + 1) + " / " + items.length;
      v.classList.add("loading");
      img.src = "/api/v1/attachments/" + id + "/frame?study=" + cur.study + "&series=" + cur.series +
        "&instance=" + it.instance + "&frame=" + it.frame + "&preset=" + cur.preset + "&size=1024";
      // Prefetch the neighbours so paging feels instant.
      [cur.index + 1, cur.index + 2].forEach(function (n) {
        var nx = items[n];
        if (nx) {
          var p = new Image();
          p.src = "/api/v1/attachments/" + id + "/frame?study=" + cur.study + "&series=" + cur.series +
            "&instance=" + nx.instance + "&frame=" + nx.frame + "&preset=" + cur.preset + "&size=1024";
        }
      });
    }

    img.addEventListener("load", function () { v.classList.remove("loading", "error"); });
    img.addEventListener("error", function () { v.classList.remove("loading"); v.classList.add("error"); });

    function go(delta) {
      var n = Math.min(items.length - 1, Math.max(0, cur.index + delta));
      if (n !== cur.index) { cur.index = n; show(); }
    }

    function pickSeries(el) {
      seriesList.forEach(function (x) { x.classList.remove("active"); });
      el.classList.add("active");
      var parts = el.getAttribute("data-series").split(":");
      cur.study = Number(parts[0]);
      cur.series = Number(parts[1]);
      cur.index = 0;
      build();
      show();
    }

    function pickPreset(name) {
      presets.forEach(function (x) { x.classList.toggle("active", x.getAttribute("data-preset") === name); });
      cur.preset = name;
      show();
    }

    seriesList.forEach(function (el) { el.addEventListener("click", function () { pickSeries(el); }); });
    presets.forEach(function (el) {
      el.addEventListener("click", function () { pickPreset(el.getAttribute("data-preset")); });
    });
    slider.addEventListener("input", function () { cur.index = Number(slider.value); show(); });
    v.querySelector("[data-step='-1']").addEventListener("click", function () { go(-1); });
    v.querySelector("[data-step='1']").addEventListener("click", function () { go(1); });
    v.querySelector(".stage").addEventListener("wheel", function (e) {
      e.preventDefault();
      go(e.deltaY > 0 ? 1 : -1);
    }, { passive: false });
    document.addEventListener("keydown", function (e) {
      if (e.target.tagName === "INPUT" && e.target.type !== "range") return;
      if (e.key === "ArrowDown" || e.key === "ArrowRight" || e.key === "PageDown") { e.preventDefault(); go(1); }
      if (e.key === "ArrowUp" || e.key === "ArrowLeft" || e.key === "PageUp") { e.preventDefault(); go(-1); }
      var n = "12345".indexOf(e.key);
      if (n >= 0 && presets[n]) pickPreset(presets[n].getAttribute("data-preset"));
    });
    build();
    show();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-upload-consultation]").forEach(setupUploader);
    document.querySelectorAll("[data-viewer]").forEach(setupViewer);
  });
})();
