/* The contents page of a package: the one page that stays open, so it holds the platform's session (the
   adapter in lms.js: SCORM 1.2, SCORM 2004 or cmi5) while lessons open in its frame. It records which lessons
   are complete and where the learner is, and marks the course complete when every lesson is.

   An adapter offers start() -> {bookmark, done, completed} or null (no platform), save(state) -> false when
   refused, complete(state), finish(state) -> a promise when it has something to wait for, and may name
   exitTo (a cmi5 platform's returnURL). Any of them may answer with a promise. */
(function () {
  "use strict";
  var body = document.body;
  var lessons = JSON.parse(body.getAttribute("data-lessons"));
  var frame = document.getElementById("lesson-frame");
  var contents = document.getElementById("package-toc");
  var progress = document.getElementById("package-progress");
  var status = document.getElementById("package-status");
  var exit = document.getElementById("package-exit");
  var lms = window.IbmPackageLms;
  var storageKey = "ibm-lms:" + body.getAttribute("data-package");
  var narrow = window.matchMedia ? window.matchMedia("(max-width: 48rem)") : { matches: false };
  var done = {};
  var bookmark = null;
  var completed = false;
  var connected = false;
  var started = false;
  var finished = false;
  var chosen = false;
  var waiting = [];
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

  /* "v2:<hash of the lesson keys>:0110": one character a lesson, in the package's order, short enough for
     SCORM 1.2's 4,096 characters whatever the keys. The hash keeps marks of an older build whose lessons were
     inserted or reordered from landing on the wrong lessons. */
  function fingerprint() {
    var hash = 0x811c9dc5;
    var text = lessons.map(function (lesson) { return lesson.key; }).join(",");
    for (var i = 0; i < text.length; i += 1) {
      hash ^= text.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
    return hash.toString(16);
  }

  function encoded() {
    return "v2:" + fingerprint() + ":" +
      lessons.map(function (lesson) { return done[lesson.key] ? "1" : "0"; }).join("");
  }

  function decode(text) {
    var prefix = "v2:" + fingerprint() + ":";
    if (typeof text !== "string" || text.indexOf(prefix) !== 0 || !/^[01]*$/.test(text.slice(prefix.length))) {
      return;
    }
    var marks = text.slice(prefix.length);
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

  function state() {
    return { bookmark: bookmark, done: encoded(), completed: completed, count: lessons.length,
             doneCount: doneCount(), seconds: (Date.now() - openedAt) / 1000 };
  }

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

  function completeIfDone() {
    if (!completed && lessons.length > 0 && doneCount() === lessons.length) {
      completed = true;
      if (connected) { lms.complete(state()); }
    }
  }

  function handle(data) {
    if (data.action === "height") {
      // The frame as tall as its page: one scroll bar (the page's), not one inside another in Moodle's frame.
      if (typeof data.height === "number" && data.height > 0) {
        frame.style.height = Math.min(Math.ceil(data.height), 200000) + "px";
      }
      return;
    }
    var lesson = known(data.lesson);
    if (!lesson) { return; }
    if (data.action === "open") {
      bookmark = lesson.key;
      if (typeof data.title === "string") { frame.title = data.title.slice(0, 300); }
      if (narrow.matches && contents && contents.open && started) {
        contents.open = false;
        frame.scrollIntoView();
      }
    }
    if (data.action === "complete") { done[lesson.key] = true; }
    completeIfDone();
    persist();
    render();
    tellFrame(lesson.key);
  }

  window.addEventListener("message", function (event) {
    if (event.source !== frame.contentWindow || !event.data || event.data.type !== "ibm-lms-lesson") { return; }
    // Until the platform has answered, what the lessons say waits: it is recorded once the session is open.
    if (!started) { waiting.push(event.data); return; }
    handle(event.data);
  });

  document.querySelectorAll("a[target='lesson-frame']").forEach(function (link) {
    link.addEventListener("click", function () { chosen = true; });
  });

  function finish() {
    if (finished) { return null; }
    finished = true;
    return connected && lms.finish ? lms.finish(state()) : null;
  }
  // pagehide, not beforeunload: a navigation the learner cancels must not end the session.
  window.addEventListener("pagehide", finish);

  if (exit) {
    exit.addEventListener("click", function () {
      exit.disabled = true;
      Promise.resolve(finish()).then(function () { window.location.replace(lms.exitTo); },
                                     function () { window.location.replace(lms.exitTo); });
    });
  }

  function begin(saved) {
    connected = !!saved;
    saved = saved || browserStore.load() || {};
    say(status, body.getAttribute(connected ? "data-connected" : "data-standalone"));
    decode(saved.done);
    if (saved.completed) {
      // The platform holds the course as complete: every lesson is, whatever the marks kept with it say.
      lessons.forEach(function (lesson) { done[lesson.key] = true; });
      completed = true;
    }
    var resume = known(saved.bookmark) || lessons[0];
    bookmark = resume ? resume.key : null;
    started = true;
    if (exit && connected && lms.exitTo) { exit.hidden = false; }
    waiting.splice(0).forEach(handle);
    completeIfDone();
    render();
    // A lesson the learner opened while the platform was answering stays open.
    if (resume && !chosen) { frame.src = resume.href; }
  }

  Promise.resolve(lms ? lms.start() : null).then(begin, function () { begin(null); });
})();
