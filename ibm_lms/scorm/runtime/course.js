/* The contents page of a package: the one page that stays open, so it holds the platform's session (the
   adapter in lms.js: SCORM 1.2, SCORM 2004 or cmi5) while lessons open in its frame. It records which lessons
   are complete and where the learner is, and marks the course complete when every lesson is. */
(function () {
  "use strict";
  var body = document.body;
  var lessons = JSON.parse(body.getAttribute("data-lessons"));
  var frame = document.getElementById("lesson-frame");
  var progress = document.getElementById("package-progress");
  var status = document.getElementById("package-status");
  var lms = window.IbmPackageLms;
  var storageKey = "ibm-lms:" + body.getAttribute("data-package");
  var done = {};
  var bookmark = null;
  var completed = false;
  var connected = false;
  var started = false;
  var openedAt = Date.now();

  function known(key) {
    for (var i = 0; i < lessons.length; i += 1) { if (lessons[i].key === key) { return lessons[i]; } }
    return null;
  }

  function doneCount() {
    var count = 0;
    lessons.forEach(function (lesson) { if (done[lesson.key]) { count += 1; } });
    return count;
  }

  /* One character a lesson, in the package's order: "v1:0110". Short enough for SCORM 1.2's 4,096
     characters of suspend data whatever the lessons' keys. */
  function encoded() {
    return "v1:" + lessons.map(function (lesson) { return done[lesson.key] ? "1" : "0"; }).join("");
  }

  function decode(text) {
    if (typeof text !== "string" || !/^v1:[01]*$/.test(text)) { return; }
    var marks = text.slice(3);
    lessons.forEach(function (lesson, index) { if (marks.charAt(index) === "1") { done[lesson.key] = true; } });
  }

  function say(element, text) { element.textContent = text; }

  function render() {
    say(progress, body.getAttribute("data-progress").replace("{done}", String(doneCount())));
    lessons.forEach(function (lesson) {
      var mark = document.querySelector('[data-done-for="' + lesson.key + '"]');
      if (mark) {
        mark.hidden = !done[lesson.key];
        mark.textContent = done[lesson.key] ? "(" + body.getAttribute("data-lesson-done") + ")" : "";
      }
      var link = document.querySelector('a[data-lesson="' + lesson.key + '"]');
      if (link) {
        if (lesson.key === bookmark) { link.setAttribute("aria-current", "page"); }
        else { link.removeAttribute("aria-current"); }
      }
    });
    if (completed) { say(status, body.getAttribute("data-finished")); }
  }

  var browserStore = {
    load: function () {
      try { return JSON.parse(window.localStorage.getItem(storageKey) || "null"); } catch (error) { return null; }
    },
    save: function (state) {
      try { window.localStorage.setItem(storageKey, JSON.stringify(state)); } catch (error) { /* no storage */ }
    }
  };

  function state() { return { bookmark: bookmark, done: encoded(), completed: completed, count: lessons.length,
                               doneCount: doneCount(), seconds: (Date.now() - openedAt) / 1000 }; }

  function persist() {
    var current = state();
    if (!connected) { browserStore.save(current); return; }
    Promise.resolve(lms.save(current)).then(function (saved) {
      if (saved === false) { say(status, body.getAttribute("data-unsaved")); }
    });
  }

  function tellFrame(lesson) {
    if (frame.contentWindow) {
      frame.contentWindow.postMessage({ type: "ibm-lms-state", lesson: lesson, completed: !!done[lesson] }, "*");
    }
  }

  window.addEventListener("message", function (event) {
    if (!started || event.source !== frame.contentWindow || !event.data || event.data.type !== "ibm-lms-lesson") {
      return;
    }
    var lesson = known(event.data.lesson);
    if (!lesson) { return; }
    bookmark = lesson.key;
    if (event.data.action === "complete") { done[lesson.key] = true; }
    if (!completed && doneCount() === lessons.length) {
      completed = true;
      if (connected) { lms.complete(state()); }
    }
    persist();
    render();
    tellFrame(lesson.key);
  });

  function finish() {
    if (connected && lms.finish) { lms.finish(state()); connected = false; }
  }
  window.addEventListener("pagehide", finish);
  window.addEventListener("beforeunload", finish);

  function begin(saved) {
    connected = !!saved;
    saved = saved || browserStore.load() || {};
    say(status, body.getAttribute(connected ? "data-connected" : "data-standalone"));
    decode(saved.done);
    completed = !!saved.completed || (lessons.length > 0 && doneCount() === lessons.length);
    var resume = known(saved.bookmark) || lessons[0];
    bookmark = resume ? resume.key : null;
    started = true;
    render();
    if (resume) { frame.src = resume.href; }
  }

  Promise.resolve(lms ? lms.start() : null).then(begin, function () { begin(null); });
})();
