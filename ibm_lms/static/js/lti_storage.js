// LTI client-side postMessage storage: the platform keeps values for the tool when the browser
// does not keep the tool's cookies. Messages go to the platform's frame named by lti_storage_target.
window.ltiStorage = (function () {
  function targetWindow(name) {
    if (!name || name === "_parent") { return window.parent; }
    try { return window.parent.frames[name] || null; } catch (error) { return null; }
  }

  // A message that reaches the platform before its page listens is lost, so it is sent again
  // (same id: put and get are idempotent) until an answer comes or the time is up.
  var RESEND_MS = 400;

  function send(name, origin, message, timeoutMs) {
    return new Promise(function (resolve, reject) {
      var target = targetWindow(name);
      if (!target || target === window) { reject(new Error("no storage frame")); return; }
      var id = "ibm-lms-" + Math.random().toString(36).slice(2);
      message.message_id = id;
      function stop() {
        clearTimeout(timer);
        clearInterval(resender);
        window.removeEventListener("message", listen);
      }
      function listen(event) {
        var data = event.data || {};
        if (event.origin !== origin || data.message_id !== id) { return; }
        stop();
        if (data.error) { reject(new Error(data.error.code || "storage error")); } else { resolve(data); }
      }
      var timer = setTimeout(function () { stop(); reject(new Error("timeout")); }, timeoutMs || 3000);
      var resender = setInterval(function () { target.postMessage(message, origin); }, RESEND_MS);
      window.addEventListener("message", listen);
      target.postMessage(message, origin);
    });
  }

  return {
    put: function (name, origin, key, value) {
      return send(name, origin, { subject: "lti.put_data", key: key, value: value });
    },
    get: function (name, origin, key) {
      return send(name, origin, { subject: "lti.get_data", key: key }).then(function (data) { return data.value; });
    }
  };
})();
