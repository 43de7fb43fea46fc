// Autosave of a quiz attempt: each answered question is sent as soon as it changes, with a sequence number
// so that a late retry never undoes a newer answer. What could not be sent is retried until the
// connection is back; leaving the page meanwhile asks first. Where the browser lets the tool keep
// data (not in a frame whose third-party storage is blocked), unsent answers also survive a reload.
// Without this script the page still works: its buttons save and submit the whole form.
(function () {
  var form = document.getElementById("attempt-form");
  if (!form || !window.fetch || !window.FormData) { return; }
  var attempt = form.getAttribute("data-attempt");
  var store = "ibm-lms-attempt-" + attempt;
  var status = document.getElementById("save-status");
  var pending = {};
  var sending = false;
  var timer = null;
  function load() { try { return JSON.parse(localStorage.getItem(store) || "{}"); } catch (e) { return {}; } }
  var kept = load();
  // Answers are numbered by when they were given, on the server's clock (tenths of a second since the attempt
  // began; the page says where the count stood when it was made), so the last answer wins whichever tab or
  // computer gave it. Only the time since this page loaded is read from this computer's clock.
  var loadedAt = Date.now();
  var base = Number(form.elements.sequence.value) || 0;
  var sequence = base;
  function next() {
    sequence = Math.max(sequence + 1, base + Math.floor((Date.now() - loadedAt) / 100));
    return sequence;
  }
  pending = kept.pending || {};
  function keep() { try { localStorage.setItem(store, JSON.stringify({ pending: pending })); } catch (e) { /* private mode */ } }
  // Questions whose last answer the server refused (a letter in a check digit, say), with its reason: they wait
  // for the trainee to change them, and the other questions keep saving meanwhile.
  var refused = {};
  function say(name) { if (status) { status.textContent = form.getAttribute("data-" + name); } }
  function report() {
    var reasons = Object.keys(refused).map(function (slot) { return refused[slot]; });
    if (reasons.length && status) { status.textContent = reasons.join(" "); return; }
    say(Object.keys(pending).length ? "saving" : "saved");
  }
  function fields(slot) {
    var found = [];
    var prefix = "q" + slot + "-";
    var data = new FormData(form);
    data.forEach(function (value, name) { if (name.indexOf(prefix) === 0) { found.push([name, value]); } });
    return found;
  }
  function restore() {
    Object.keys(pending).forEach(function (slot) {
      var values = pending[slot].fields;
      var byName = {};
      values.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
      Array.prototype.forEach.call(form.elements, function (input) {
        if (!input.name || input.name.indexOf("q" + slot + "-") !== 0 || input.name.slice(-8) === "-present") { return; }
        var wanted = byName[input.name] || [];
        if (input.type === "radio" || input.type === "checkbox") { input.checked = wanted.indexOf(input.value) !== -1; }
        else if (wanted.length) { input.value = wanted[0]; }
      });
    });
  }
  function send() {
    var slots = Object.keys(pending);
    if (sending || !slots.length) { return; }
    // The server refuses a save as a whole: after a refusal, questions go one at a time to find the one at fault.
    var alone = slots.filter(function (slot) { return pending[slot].alone; });
    if (alone.length) { slots = alone.slice(0, 1); }
    var again = 5000;
    sending = true;
    say("saving");
    var body = new FormData();
    body.append("csrf_token", form.elements.csrf_token.value);
    var top = 0;
    slots.forEach(function (slot) {
      top = Math.max(top, pending[slot].sequence);
      pending[slot].fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    });
    body.append("sequence", String(top));
    fetch(form.action, { method: "POST", body: body, credentials: "same-origin",
                         headers: { "Accept": "application/json", "X-CSRFToken": form.elements.csrf_token.value } })
      .then(function (response) {
        if (response.status === 409) { window.location.reload(); return; }
        if (response.status === 400) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            // Only a refused answer is set aside; any other refusal (an expired form) keeps every answer waiting.
            if (answer.error !== "answer_refused") { throw new Error("HTTP 400 " + (answer.error || "")); }
            again = 0;
            if (slots.length > 1) { slots.forEach(function (slot) { pending[slot].alone = true; }); return; }
            var slot = slots[0];
            if (pending[slot] && pending[slot].sequence <= top) {
              refused[slot] = answer.message || form.getAttribute("data-offline");
              delete pending[slot];
              keep();
            }
            report();
          });
        }
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json().catch(function () { return {}; }).then(function (answer) {
          var stored = (answer.saved || []).map(String);
          var newer = false;
          slots.forEach(function (slot) {
            if (pending[slot] && pending[slot].sequence <= top) {
              // Not stored: the server holds a later answer, given in another tab or on another computer.
              if (stored.indexOf(slot) === -1) { newer = true; }
              delete pending[slot];
            }
          });
          keep();
          if (newer) { leaving = true; window.location.reload(); return; }
          report();
        });
      })
      .catch(function () { say("offline"); })
      .then(function () { sending = false; if (Object.keys(pending).length) { setTimeout(send, again); } });
  }
  function changed(event) {
    var question = event.target.closest("fieldset.question");
    if (!question) { return; }
    var slot = question.getAttribute("data-slot");
    delete refused[slot];
    pending[slot] = { sequence: next(), fields: fields(slot) };
    keep();
    clearTimeout(timer);
    timer = setTimeout(send, 600);
  }
  restore();
  form.addEventListener("change", changed);
  form.addEventListener("input", changed);
  window.addEventListener("online", send);
  if (Object.keys(pending).length) { send(); }
  // The sequence travels with whole-page saves too, so the server orders them with the autosaves.
  var leaving = false;
  form.addEventListener("submit", function (event) {
    var submitting = event.submitter && event.submitter.value === "submit";
    if (submitting && !window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); return; }
    form.elements.sequence.value = String(next());
    leaving = true;  // the form carries every answer itself
    try { localStorage.removeItem(store); } catch (e) { /* storage blocked */ }
  });
  window.addEventListener("beforeunload", function (event) {
    if (leaving || !Object.keys(pending).length) { return; }
    event.preventDefault();
    event.returnValue = "";
  });
  var clock = document.getElementById("timer");
  if (clock) {
    // Counted from the seconds the server said were left, not from this computer's clock, which may be wrong.
    var deadline = loadedAt + 1000 * Number(clock.getAttribute("data-seconds-left"));
    // Five minutes and one minute before the end, the page says so aloud (role="alert"), whatever is in view.
    var alert = document.getElementById("timer-alert");
    var warned = {};
    var tick = function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      // (Opened with less than four minutes left, the five-minute warning would mislead: only the last one comes.)
      var due = left <= 60 ? 1 : (left <= 300 && left > 240 ? 5 : 0);
      if (alert && due && left > 0 && !warned[due]) {
        warned[due] = true;
        alert.textContent = clock.getAttribute("data-warn-" + due);
      }
      clock.setAttribute("data-left", String(left));
      var shown = clock.querySelector(".left");
      if (shown) { shown.textContent = Math.floor(left / 60) + ":" + ("0" + (left % 60)).slice(-2); }
      if (left === 0) { send(); setTimeout(function () { window.location.reload(); }, 2000); return; }
      setTimeout(tick, 1000);
    };
    tick();
  }
})();
