/* cmi5 adapter for course.js. The platform launches the unit with endpoint, fetch, actor, registration and
   activityId in the address; the unit takes its one-time token from `fetch`, reads LMS.LaunchData from the
   State API, and sends the cmi5 statements itself: initialized, completed (once, when every lesson is, and
   only in Normal mode), terminated. Where the learner is goes in a state document of its own. */
(function () {
  "use strict";
  var CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
  var MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon";
  var VERBS = {
    initialized: "http://adlnet.gov/expapi/verbs/initialized",
    completed: "http://adlnet.gov/expapi/verbs/completed",
    terminated: "http://adlnet.gov/expapi/verbs/terminated"
  };
  var PROGRESS_STATE = "https://w3id.org/xapi/ibm-lms/state/package-progress";
  var launch = null;

  function parameters() {
    var query = new URLSearchParams(window.location.search);
    var names = ["endpoint", "fetch", "actor", "registration", "activityId"];
    var found = {};
    for (var i = 0; i < names.length; i += 1) {
      var value = query.get(names[i]);
      if (!value) { return null; }
      found[names[i]] = value;
    }
    try { found.actor = JSON.parse(found.actor); } catch (error) { return null; }
    found.endpoint = found.endpoint.replace(/\/?$/, "/");
    return found;
  }

  // crypto.randomUUID needs a secure context; a platform on plain http still gets version 4 ids.
  function uuid() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" +
      hex.slice(20);
  }

  function duration(seconds) {
    return "PT" + Math.max(0, seconds).toFixed(2) + "S";
  }

  function request(method, path, body, keepalive) {
    var headers = { "Authorization": launch.token, "X-Experience-API-Version": "1.0.3" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(launch.endpoint + path, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
      keepalive: !!keepalive, credentials: "omit"
    });
  }

  function stateQuery(stateId) {
    return "activities/state?" + new URLSearchParams({
      activityId: launch.activityId, agent: JSON.stringify(launch.actor), registration: launch.registration,
      stateId: stateId
    }).toString();
  }

  function context(categories) {
    var built = JSON.parse(JSON.stringify(launch.contextTemplate || {}));
    built.registration = launch.registration;
    built.contextActivities = built.contextActivities || {};
    var category = built.contextActivities.category || [];
    categories.forEach(function (id) {
      if (!category.some(function (entry) { return entry.id === id; })) { category.push({ id: id }); }
    });
    built.contextActivities.category = category;
    return built;
  }

  function statement(verb, result, categories, keepalive) {
    var sent = {
      id: uuid(), timestamp: new Date().toISOString(), actor: launch.actor,
      verb: { id: VERBS[verb], display: { "en-US": verb } },
      object: { objectType: "Activity", id: launch.activityId },
      context: context(categories)
    };
    if (result) { sent.result = result; }
    return request("POST", "statements", [sent], keepalive).then(function (response) { return response.ok; },
      function () { return false; });
  }

  window.IbmPackageLms = {
    start: function () {
      var found = parameters();
      if (!found) { return null; }
      launch = found;
      return fetch(found.fetch, { method: "POST", credentials: "omit" })
        .then(function (response) { return response.json(); })
        .then(function (answer) {
          if (!answer["auth-token"]) { throw new Error(answer["error-text"] || "no token"); }
          launch.token = "Basic " + answer["auth-token"];
          return request("GET", stateQuery("LMS.LaunchData"));
        })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (data) {
          launch.contextTemplate = data.contextTemplate;
          launch.mode = data.launchMode || "Normal";
          launch.returnURL = data.returnURL || null;
          return statement("initialized", null, [CMI5_CATEGORY]);
        })
        .then(function () { return request("GET", stateQuery(PROGRESS_STATE)); })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (saved) { return { bookmark: saved.bookmark, done: saved.done, completed: !!saved.completed }; })
        .catch(function () { launch = null; return null; });
    },
    save: function (state) {
      if (!launch) { return false; }
      return request("PUT", stateQuery(PROGRESS_STATE),
                     { bookmark: state.bookmark, done: state.done, completed: state.completed })
        .then(function (response) { return response.ok; }, function () { return false; });
    },
    complete: function (state) {
      // cmi5: no completed in Browse or Review mode, and no more than one per registration.
      if (!launch || launch.mode !== "Normal") { return; }
      statement("completed", { completion: true, duration: duration(state.seconds) }, [CMI5_CATEGORY, MOVEON_CATEGORY]);
    },
    finish: function (state) {
      if (!launch) { return; }
      statement("terminated", { duration: duration(state.seconds) }, [CMI5_CATEGORY], true);
      launch = null;
    }
  };
})();
