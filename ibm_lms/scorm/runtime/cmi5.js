/* cmi5 adapter for course.js. The platform launches the unit with endpoint, fetch, actor, registration and
   activityId in the address; the unit takes its one-time token from `fetch`, reads LMS.LaunchData (and the
   learner's preferences) from the platform's LRS, and sends the cmi5 statements itself, one after another:
   initialized, completed (once per registration, only in Normal mode, when every lesson is), terminated. Where
   the learner is, and whether completed was accepted, go in a state document of the unit's own. A platform that
   does not answer within 20 s, or refuses the launch data or `initialized`, leaves the unit unconnected (the
   learner is told). */
(function () {
  "use strict";
  var CMI5_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/cmi5";
  var MOVEON_CATEGORY = "https://w3id.org/xapi/cmi5/context/categories/moveon";
  var VERBS = {
    initialized: "http://adlnet.gov/expapi/verbs/initialized",
    completed: "http://adlnet.gov/expapi/verbs/completed",
    terminated: "http://adlnet.gov/expapi/verbs/terminated"
  };
  var WAIT_MS = 20000;
  var progressState = document.body.getAttribute("data-state-id");
  var launch = null;
  var sent = Promise.resolve();
  var completedSent = false;

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

  function timed(url, options) {
    var control = window.AbortController ? new AbortController() : null;
    var timer = control ? window.setTimeout(function () { control.abort(); }, WAIT_MS) : null;
    if (control) { options.signal = control.signal; }
    return fetch(url, options).finally(function () { if (timer !== null) { window.clearTimeout(timer); } });
  }

  // `via`: the launch a request belongs to, kept by a statement queued behind others after the session ended.
  function request(method, path, body, keepalive, via) {
    var session = via || launch;
    var headers = { "Authorization": session.token, "X-Experience-API-Version": "1.0.3" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return timed(session.endpoint + path, {
      method: method, headers: headers, body: body === undefined ? undefined : JSON.stringify(body),
      keepalive: !!keepalive, credentials: "omit"
    });
  }

  function documentQuery(kind, parameters, via) {
    var query = new URLSearchParams(parameters);
    query.set("agent", JSON.stringify((via || launch).actor));
    return kind + "?" + query.toString();
  }

  function stateQuery(stateId, via) {
    var session = via || launch;
    return documentQuery("activities/state", { activityId: session.activityId, registration: session.registration,
                                               stateId: stateId }, session);
  }

  function readJson(response) {
    if (!response.ok) { throw new Error("refused: " + response.status); }
    return response.json();
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

  // Statements go one after another, so the platform never reads terminated before completed.
  function statement(verb, result, categories, keepalive) {
    var made = {
      id: uuid(), timestamp: new Date().toISOString(), actor: launch.actor,
      verb: { id: VERBS[verb], display: { "en-US": verb } },
      object: { objectType: "Activity", id: launch.activityId },
      context: context(categories)
    };
    if (result) { made.result = result; }
    var session = launch;
    var answer = sent.then(function () { return request("POST", "statements", [made], keepalive, session); })
      .then(function (response) { return response.ok; }, function () { return false; });
    sent = answer;
    return answer;
  }

  // Saves go one after another too, each with what is known when it leaves: a save made before completed was
  // accepted never lands after the one that says it was.
  var saving = Promise.resolve();
  function saveProgress(state, via) {
    var session = via || launch;
    var answer = saving.then(function () {
      return request("PUT", stateQuery(progressState, session), { bookmark: state.bookmark, done: state.done,
                                                         completed: state.completed, completedSent: completedSent },
                     false, session);
    }).then(function (response) { return response.ok; }, function () { return false; });
    saving = answer;
    return answer;
  }

  window.IbmPackageLms = {
    start: function () {
      var found = parameters();
      if (!found) { return null; }
      launch = found;
      return timed(found.fetch, { method: "POST", credentials: "omit" })
        .then(readJson)
        .then(function (answer) {
          if (!answer["auth-token"]) { throw new Error(answer["error-text"] || "no token"); }
          launch.token = "Basic " + answer["auth-token"];
          return request("GET", stateQuery("LMS.LaunchData"));
        })
        .then(readJson)
        .then(function (data) {
          launch.contextTemplate = data.contextTemplate;
          launch.mode = data.launchMode || "Normal";
          window.IbmPackageLms.exitTo = data.returnURL || null;
          // cmi5 asks every unit to read the learner's preferences; a package in one language has no choice to
          // make with them, and a platform without them is no fault.
          return request("GET", documentQuery("agents/profile", { profileId: "cmi5LearnerPreferences" }))
            .catch(function () { return null; });
        })
        .then(function () { return statement("initialized", null, [CMI5_CATEGORY]); })
        .then(function (accepted) {
          if (!accepted) { throw new Error("initialized refused"); }
          return request("GET", stateQuery(progressState));
        })
        .then(function (response) { return response.ok ? response.json() : {}; })
        .then(function (saved) {
          completedSent = !!saved.completedSent;
          // Complete from an earlier session whose completed never reached the platform (or a Browse one).
          return { bookmark: saved.bookmark, done: saved.done, completed: completedSent };
        })
        .catch(function () { launch = null; return null; });
    },
    save: function (state) {
      if (!launch) { return false; }
      return saveProgress(state);
    },
    complete: function (state) {
      // cmi5: no completed in Browse or Review mode, and no more than one per registration.
      if (!launch || launch.mode !== "Normal" || completedSent) { return; }
      var session = launch;  // the answer may come after the session ended (terminated is queued behind it)
      statement("completed", { completion: true, duration: duration(state.seconds) },
                [CMI5_CATEGORY, MOVEON_CATEGORY], true).then(function (accepted) {
        if (accepted) { completedSent = true; saveProgress(state, session); }
      });
    },
    finish: function (state) {
      if (!launch) { return null; }
      var ending = statement("terminated", { duration: duration(state.seconds) }, [CMI5_CATEGORY], true);
      launch = null;
      return ending;
    }
  };
})();
