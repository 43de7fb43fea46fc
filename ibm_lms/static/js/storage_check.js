// The launch arrived without our cookie: read the state back from the platform's storage, and only
// then resubmit the launch with the one-time check value this page received from the tool.
(function () {
  var panel = document.getElementById("storage-check");
  if (!panel) { return; }
  var state = panel.dataset.state;
  window.ltiStorage.get(panel.dataset.storageTarget, panel.dataset.platformOrigin, "state_" + state)
    .then(function (value) {
      if (value !== state) { throw new Error("state differs"); }
      document.getElementById("storage-form").submit();
    })
    .catch(function () {
      document.getElementById("connecting").hidden = true;
      document.getElementById("storage-failed").hidden = false;
    });
})();
