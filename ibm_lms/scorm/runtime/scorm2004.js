/* SCORM 2004 4th Edition adapter for course.js: the player's `API_1484_11` object (Initialize, GetValue,
   SetValue, Commit, Terminate), found by scorm_api.js. */
(function () {
  "use strict";
  var api = null;
  var shownProgress = 0;
  var ok = window.IbmScorm.ok;

  // timeinterval (second, 10, 2): PT#H#M#S with at most two decimals.
  function interval(seconds) {
    var span = window.IbmScorm.span(seconds);
    return "PT" + span.hours + "H" + span.minutes + "M" + span.seconds.toFixed(2) + "S";
  }

  function set(name, value) { return ok(api.SetValue(name, String(value))); }

  // A value not set yet answers "" with error 403 (not initialized): that is an empty value, not a fault.
  function get(name) { return api.GetValue(name) || ""; }

  window.IbmPackageLms = {
    start: function () {
      api = window.IbmScorm.find("API_1484_11");
      if (!api || !ok(api.Initialize(""))) { api = null; return null; }
      var completion = get("cmi.completion_status");
      if (completion !== "completed") { set("cmi.completion_status", "incomplete"); }
      // Suspended from the start, and read whatever cmi.entry says: Moodle calls a session "ab-initio" after
      // one that ended without setting cmi.exit, yet keeps its location and suspend data.
      set("cmi.exit", "suspend");
      shownProgress = Number(get("cmi.progress_measure")) || 0;
      return { bookmark: get("cmi.location"), done: get("cmi.suspend_data"), completed: completion === "completed" };
    },
    save: function (state) {
      if (!api) { return false; }
      var saved = set("cmi.location", state.bookmark || "") && set("cmi.suspend_data", state.done);
      var measure = state.count > 0 ? state.doneCount / state.count : 0;
      // Progress reported never goes down (marks lost with an older build must not undo it).
      if (measure > shownProgress) { shownProgress = measure; set("cmi.progress_measure", measure.toFixed(4)); }
      return ok(api.Commit("")) && saved;
    },
    complete: function () {
      if (!api) { return; }
      set("cmi.completion_status", "completed");
      shownProgress = 1;
      set("cmi.progress_measure", "1");
      api.Commit("");
    },
    finish: function (state) {
      if (!api) { return null; }
      set("cmi.session_time", interval(state.seconds));
      // Always suspended: "normal" ends the attempt, and a conformant player starts the next one afresh.
      set("cmi.exit", "suspend");
      api.Commit("");
      api.Terminate("");
      api = null;
      return null;
    }
  };
})();
