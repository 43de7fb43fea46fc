// Proves in the browser that the tool's cookies survive in this frame before handing over to the platform;
// when they do not, offers the tool in a new window instead of failing at launch.
(function () {
  var panel = document.getElementById("login-check");
  if (!panel) { return; }
  var name = panel.dataset.probeCookie;
  var secure = panel.dataset.secure === "true";
  var attributes = "; path=/; max-age=31536000" + (secure ? "; SameSite=None; Secure; Partitioned" : "; SameSite=Lax");
  document.cookie = name + "=1" + attributes;
  if (document.cookie.indexOf(name + "=1") !== -1) {
    window.location.replace(panel.dataset.authUrl);
    return;
  }
  document.getElementById("connecting").hidden = true;
  document.getElementById("cookies-blocked").hidden = false;
})();
