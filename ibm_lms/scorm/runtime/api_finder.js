/* A SCORM player's API object, looked for as SCORM's run-time rules say: this window's parents, then the
   window that opened it and that one's parents. */
window.IbmFindApi = function (name) {
  "use strict";
  function search(start) {
    var win = start;
    for (var hops = 0; win && hops < 500; hops += 1) {
      try { if (win[name]) { return win[name]; } } catch (error) { return null; } // another site's frame
      if (!win.parent || win.parent === win) { break; }
      win = win.parent;
    }
    return null;
  }
  return search(window) || (window.opener ? search(window.opener) : null);
};
