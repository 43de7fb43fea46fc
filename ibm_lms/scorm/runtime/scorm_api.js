/* What both SCORM adapters share: the player's API object, looked for as SCORM's run-time rules say (this
   window's parents, then the window that opened it and that one's parents); a call's "true"; a session's
   length split into hours, minutes and seconds (cut, not rounded, to hundredths: never "60.00"). */
window.IbmScorm = (function () {
  "use strict";
  function search(start, name) {
    var win = start;
    for (var hops = 0; win && hops < 500; hops += 1) {
      try { if (win[name]) { return win[name]; } } catch (error) { return null; } // another site's frame
      if (!win.parent || win.parent === win) { break; }
      win = win.parent;
    }
    return null;
  }
  return {
    find: function (name) { return search(window, name) || (window.opener ? search(window.opener, name) : null); },
    ok: function (result) { return result === true || result === "true"; },
    span: function (seconds) {
      var whole = Math.max(0, seconds);
      return { hours: Math.floor(whole / 3600), minutes: Math.floor((whole % 3600) / 60), seconds: Math.floor((whole % 60) * 100) / 100 };
    }
  };
})();
