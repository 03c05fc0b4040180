// «Подписать УКЭП»: the consultant signs the conclusion with their own
// qualified certificate through the CryptoPro CAdES browser plug-in, written
// against its public JavaScript API (the asynchronous `cadesplugin` object:
// CreateObjectAsync, CAdESCOM.Store / CPSigner / CadesSignedData,
// SignCades). The exact stored bytes of the conclusion's PDF (and of its
// СЭМД, when there is one) are signed, detached CAdES-BES, and uploaded as
// the consultant's own signature; the server then checks it (ГОСТ, chain,
// revocation, СНИЛС) and shows the verdicts. Without the plug-in the page
// says so and points to the file upload below.
(function () {
  "use strict";
  var root = document.getElementById("ukep");
  if (!root) return;
  var button = document.getElementById("ukep-sign");
  var picker = document.getElementById("ukep-cert");
  var status = document.getElementById("ukep-status");
  var t = function (k) { return root.getAttribute("data-t-" + k) || ""; };
  var say = function (text, bad) {
    status.textContent = text;
    status.classList.toggle("u-danger", !!bad);
  };
  // The plug-in's constants (its documentation): the current user's "My" store.
  var CURRENT_USER_STORE = 2, MY_STORE = "My", MAXIMUM_ALLOWED = 2;
  var WHOLE_CHAIN = 1, CADES_BES = 1, BASE64_TO_BINARY = 1;
  var certs = null;

  function toBase64(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) {
      s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(s);
  }

  function fromBase64(text) {
    var s = atob(String(text).replace(/\s+/g, ""));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  async function listCertificates(plugin) {
    var store = await plugin.CreateObjectAsync("CAdESCOM.Store");
    await store.Open(CURRENT_USER_STORE, MY_STORE, MAXIMUM_ALLOWED);
    var all = await store.Certificates;
    var n = await all.Count;
    var now = Date.now();
    var found = [];
    for (var i = 1; i <= n; i++) {
      var c = await all.Item(i);
      var until = new Date(await c.ValidToDate);
      if (!(await c.HasPrivateKey()) || until.getTime() < now) continue;
      found.push({ cert: c, name: await c.SubjectName, until: until });
    }
    await store.Close();
    return found;
  }

  async function signBytes(plugin, cert, bytes) {
    var signer = await plugin.CreateObjectAsync("CAdESCOM.CPSigner");
    await signer.propset_Certificate(cert);
    await signer.propset_Options(WHOLE_CHAIN);
    var data = await plugin.CreateObjectAsync("CAdESCOM.CadesSignedData");
    await data.propset_ContentEncoding(BASE64_TO_BINARY);
    await data.propset_Content(toBase64(bytes));
    return fromBase64(await data.SignCades(signer, CADES_BES, true));
  }

  async function upload(signature, target) {
    var form = new FormData();
    form.append("signature", new Blob([signature], { type: "application/pkcs7-signature" }), target + ".p7s");
    form.append("target", target);
    var r = await fetch(root.getAttribute("data-post"), { method: "POST", body: form, credentials: "same-origin" });
    if (!r.ok) throw new Error(t("refused"));
  }

  async function bytesOf(url) {
    var r = await fetch(url, { credentials: "same-origin" });
    if (!r.ok) throw new Error(t("failed"));
    return new Uint8Array(await r.arrayBuffer());
  }

  button.addEventListener("click", async function () {
    var plugin = window.cadesplugin;
    if (!plugin) {
      say(t("absent"), true);
      var file = document.querySelector("#cms-form input[type=file]");
      if (file) file.focus();
      return;
    }
    button.disabled = true;
    try {
      await plugin; // the asynchronous API is ready when this settles
      if (!certs) {
        say(t("reading"));
        certs = await listCertificates(plugin);
        if (certs.length === 0) { say(t("none"), true); certs = null; return; }
        if (certs.length > 1) {
          picker.textContent = "";
          certs.forEach(function (c, i) {
            var o = document.createElement("option");
            o.value = String(i);
            o.textContent = c.name + " — " + t("until") + " " + c.until.toLocaleDateString();
            picker.appendChild(o);
          });
          picker.hidden = false;
          picker.focus();
          say(t("choose"));
          return;
        }
      }
      var chosen = certs[picker.hidden ? 0 : Number(picker.value)].cert;
      say(t("signing"));
      await upload(await signBytes(plugin, chosen, await bytesOf(root.getAttribute("data-pdf"))), "pdf");
      var semd = root.getAttribute("data-semd");
      if (semd) await upload(await signBytes(plugin, chosen, await bytesOf(semd)), "semd");
      say(t("done"));
      location.hash = "cms-signatures";
      location.reload();
    } catch (e) {
      say(t("failed") + (e && e.message ? " (" + e.message + ")" : ""), true);
    } finally {
      button.disabled = false;
    }
  });
})();
