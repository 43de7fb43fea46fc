// The launch arrived without our cookie: read the state back from the platform's storage and, only if
// it is there, resubmit the launch from this page with a header no cross-site form can send.
(function () {
  var panel = document.getElementById("storage-check");
  if (!panel) { return; }
  document.getElementById("connecting").hidden = false;
  var data = panel.dataset;

  function fail(message) {
    if (message) { panel.querySelector(".error-message").textContent = message; }
    document.getElementById("connecting").hidden = true;
    document.getElementById("storage-failed").hidden = false;
  }

  window.ltiStorage.get(data.storageTarget, data.platformOrigin, "state_" + data.state)
    .then(function (value) {
      if (value !== data.state) { throw new Error("state differs"); }
      return fetch(data.launchUrl, {
        method: "POST",
        credentials: "omit",
        headers: { "X-IBM-LMS-Storage-Verified": "1", "Accept": "application/json" },
        body: new URLSearchParams(new FormData(document.getElementById("storage-form")))
      });
    })
    .then(function (response) {
      return response.json().then(function (body) {
        if (!response.ok || !body.location) { throw new Error(body.message || ""); }
        window.location.replace(body.location);
      });
    })
    .catch(function (error) { fail(error && error.message); });
})();
