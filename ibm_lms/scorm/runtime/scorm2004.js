/* SCORM 2004 4th Edition adapter for course.js: the player's `API_1484_11` object (Initialize, GetValue,
   SetValue, Commit, Terminate), found by scorm_api.js. */
(function () {
  "use strict";
  var api = null;

  var ok = window.IbmScorm.ok;

  // timeinterval (second, 10, 2): PT#H#M#S with at most two decimals.
  function interval(seconds) {
    var span = window.IbmScorm.span(seconds);
    return "PT" + span.hours + "H" + span.minutes + "M" + span.seconds.toFixed(2) + "S";
  }

  function set(name, value) { return ok(api.SetValue(name, String(value))); }

  window.IbmPackageLms = {
    start: function () {
      api = window.IbmScorm.find("API_1484_11");
      if (!api || !ok(api.Initialize(""))) { api = null; return null; }
      var completion = api.GetValue("cmi.completion_status");
      if (completion !== "completed") { set("cmi.completion_status", "incomplete"); }
      // Where the learner was is there only when the last session was suspended (cmi.entry "resume"); reading
      // it otherwise is an error (403, not initialized) that a strict player records.
      var resuming = api.GetValue("cmi.entry") === "resume";
      return {
        bookmark: resuming ? api.GetValue("cmi.location") : "",
        done: resuming ? api.GetValue("cmi.suspend_data") : "",
        completed: completion === "completed"
      };
    },
    save: function (state) {
      if (!api) { return false; }
      var saved = set("cmi.location", state.bookmark || "") && set("cmi.suspend_data", state.done);
      if (state.count > 0) { set("cmi.progress_measure", (state.doneCount / state.count).toFixed(4)); }
      return ok(api.Commit("")) && saved;
    },
    complete: function () {
      if (api) { set("cmi.completion_status", "completed"); set("cmi.progress_measure", "1"); api.Commit(""); }
    },
    finish: function (state) {
      if (!api) { return; }
      set("cmi.session_time", interval(state.seconds));
      set("cmi.exit", state.completed ? "normal" : "suspend");
      api.Commit("");
      api.Terminate("");
      api = null;
    }
  };
})();
