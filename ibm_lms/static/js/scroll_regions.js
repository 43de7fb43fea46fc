// A table wider than its column scrolls sideways in its wrapper; a keyboard can only scroll what it can focus,
// so an overflowing wrapper (or lesson table) becomes a tab stop, and stops being one when it fits again.
(function () {
  var regions = document.querySelectorAll(".table-wrap, .lesson table");
  function mark() {
    for (var i = 0; i < regions.length; i++) {
      var region = regions[i];
      if (region.scrollWidth > region.clientWidth + 1) {
        region.setAttribute("tabindex", "0");
      } else if (region.getAttribute("tabindex") === "0") {
        region.removeAttribute("tabindex");
      }
    }
  }
  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(mark);
  });
  mark();
})();
