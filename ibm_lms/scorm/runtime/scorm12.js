/* SCORM 1.2 adapter for course.js: the player's `API` object (LMSInitialize, LMSGetValue, LMSSetValue,
   LMSCommit, LMSFinish), found by scorm_api.js. */
(function () {
  "use strict";
  var api = null;
  var ok = window.IbmScorm.ok;

  // CMITimespan: HHHH:MM:SS.SS
  function timespan(seconds) {
    var span = window.IbmScorm.span(seconds);
    var rest = span.seconds.toFixed(2);
    return String(Math.min(9999, span.hours)).padStart(4, "0") + ":" + String(span.minutes).padStart(2, "0") + ":" +
      rest.padStart(5, "0");
  }

  function set(name, value) { return ok(api.LMSSetValue(name, String(value))); }

  window.IbmPackageLms = {
    start: function () {
      api = window.IbmScorm.find("API");
      if (!api || !ok(api.LMSInitialize(""))) { api = null; return null; }
      var lessonStatus = api.LMSGetValue("cmi.core.lesson_status");
      if (lessonStatus === "not attempted" || lessonStatus === "") { set("cmi.core.lesson_status", "incomplete"); }
      // Suspended from the start: a session that ends without a goodbye (a closed phone tab, a lost link)
      // still resumes where it was.
      set("cmi.core.exit", "suspend");
      return {
        bookmark: api.LMSGetValue("cmi.core.lesson_location"),
        done: api.LMSGetValue("cmi.suspend_data"),
        completed: lessonStatus === "completed" || lessonStatus === "passed"
      };
    },
    save: function (state) {
      if (!api) { return false; }
      var saved = set("cmi.core.lesson_location", state.bookmark || "") && set("cmi.suspend_data", state.done);
      return ok(api.LMSCommit("")) && saved;
    },
    complete: function () {
      if (api) { set("cmi.core.lesson_status", "completed"); api.LMSCommit(""); }
    },
    finish: function (state) {
      if (!api) { return null; }
      set("cmi.core.session_time", timespan(state.seconds));
      // Always suspended: the next launch opens where the learner was, a completed course included.
      set("cmi.core.exit", "suspend");
      api.LMSCommit("");
      api.LMSFinish("");
      api = null;
      return null;
    }
  };
})();
