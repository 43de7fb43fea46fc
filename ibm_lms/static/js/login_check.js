// Proves in the browser that the tool's cookies survive in this frame before handing over to the
// platform. When they do not, the platform's client-side storage (lti_storage_target) keeps the
// state instead (the nonce is already bound to it on the server); failing both, the tool is offered in a new window.
(function () {
  var panel = document.getElementById("login-check");
  if (!panel) { return; }
  document.getElementById("connecting").hidden = false;
  var data = panel.dataset;
  var secure = data.secure === "true";
  var attributes = "; path=/; max-age=31536000" + (secure ? "; SameSite=None; Secure; Partitioned" : "; SameSite=Lax");
  document.cookie = data.probeCookie + "=1" + attributes;

  function proceed() { window.location.replace(data.authUrl); }
  function offerNewWindow() {
    document.getElementById("connecting").hidden = true;
    document.getElementById("cookies-blocked").hidden = false;
  }

  if (document.cookie.indexOf(data.probeCookie + "=1") !== -1) { proceed(); return; }
  if (!data.storageTarget || !window.ltiStorage) { offerNewWindow(); return; }
  window.ltiStorage.put(data.storageTarget, data.platformOrigin, "state_" + data.state, data.state)
    .then(proceed, offerNewWindow);
})();
