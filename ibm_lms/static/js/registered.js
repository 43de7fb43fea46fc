// LTI Dynamic Registration ends by telling the platform's window that the tool is done: only once the
// administrator has read the page (the button), or after a minute.
(function () {
  var target = window.opener || window.parent;
  function close() {
    if (target && target !== window) {
      target.postMessage({ subject: "org.imsglobal.lti.close" }, "*");
    }
  }
  var button = document.getElementById("close-registration");
  if (button) { button.addEventListener("click", close); }
  setTimeout(close, 60000);
})();
