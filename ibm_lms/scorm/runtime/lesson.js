/* A lesson page of a package: tells the contents page (its parent) that the lesson is open (with its title and
   height, so the frame fits it) or complete, and shows what that page says back. "Mark as complete and go on"
   goes on once the contents page has recorded the lesson (a message sent by a page that is leaving may never
   be read), or after a second without an answer. Opened on its own, the button only goes on. */
(function () {
  "use strict";
  var button = document.getElementById("complete-lesson");
  var lesson = button ? button.getAttribute("data-lesson") : null;  // null: the glossary
  var next = button ? button.getAttribute("data-next") : null;
  var framed = window.parent && window.parent !== window;
  var leaving = null;

  function tell(action, extra) {
    if (framed) {
      var message = { type: "ibm-lms-lesson", lesson: lesson, action: action };
      if (extra) { Object.keys(extra).forEach(function (name) { message[name] = extra[name]; }); }
      // "*": a package is served from the player's own address, or from a file (an opaque origin).
      window.parent.postMessage(message, "*");
    }
  }

  function tellHeight() { tell("height", { height: document.documentElement.scrollHeight }); }

  function goOn() {
    if (leaving !== null) { window.clearTimeout(leaving); leaving = null; }
    if (next) { window.location.href = next; }
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || !event.data || event.data.type !== "ibm-lms-state") { return; }
    if (event.data.lesson === lesson && event.data.completed) {
      document.getElementById("lesson-completed").hidden = false;
      tellHeight();
      if (leaving !== null) { goOn(); }
    }
  });

  if (button) {
    button.addEventListener("click", function () {
      if (!framed) { goOn(); return; }
      if (!next) { document.getElementById("lesson-completed").hidden = false; }
      if (leaving === null) { leaving = window.setTimeout(goOn, 1000); }
      tell("complete");
    });
    button.disabled = false;
    tell("open", { title: document.title });
  }
  tellHeight();
  window.addEventListener("load", tellHeight);
  window.addEventListener("resize", tellHeight);
  document.addEventListener("toggle", tellHeight, true);  // a model answer opened or closed
})();
