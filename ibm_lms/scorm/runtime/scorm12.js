/* SCORM 1.2 adapter for course.js: the player's `API` object (LMSInitialize, LMSGetValue, LMSSetValue,
   LMSCommit, LMSFinish), found by api_finder.js. */
(function () {
  "use strict";
  var api = null;

  function ok(result) { return result === true || result === "true"; }

  // CMITimespan: HHHH:MM:SS.SS
  function timespan(seconds) {
    var whole = Math.max(0, seconds);
    var hours = Math.min(9999, Math.floor(whole / 3600));
    var minutes = Math.floor((whole % 3600) / 60);
    var rest = (whole % 60).toFixed(2);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return (hours < 10 ? "000" : hours < 100 ? "00" : hours < 1000 ? "0" : "") + hours + ":" + two(minutes) + ":" +
      (Number(rest) < 10 ? "0" : "") + rest;
  }

  function set(name, value) { return ok(api.LMSSetValue(name, String(value))); }

  window.IbmPackageLms = {
    start: function () {
      api = window.IbmFindApi("API");
      if (!api || !ok(api.LMSInitialize(""))) { api = null; return null; }
      var lessonStatus = api.LMSGetValue("cmi.core.lesson_status");
      if (lessonStatus === "not attempted" || lessonStatus === "") { set("cmi.core.lesson_status", "incomplete"); }
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
      if (!api) { return; }
      set("cmi.core.session_time", timespan(state.seconds));
      // Suspended, the next launch resumes here; a completed course starts afresh as a review.
      set("cmi.core.exit", state.completed ? "" : "suspend");
      api.LMSCommit("");
      api.LMSFinish("");
      api = null;
    }
  };
})();
