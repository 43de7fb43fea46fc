// A table of counts whose columns do not fit beside each other in the frame (long headings in Georgian or
// Armenian, a narrow Moodle column) is shown as one card per row, each count under its heading, instead of
// scrolling sideways. Without scripts the table scrolls in its wrapper, as every wide table does.
(function () {
  var tables = document.querySelectorAll("table.stacks");
  function fit() {
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      var wrap = table.parentElement;
      table.classList.remove("stacked");
      if (wrap.scrollWidth > wrap.clientWidth + 1) { table.classList.add("stacked"); }
    }
  }
  var pending = 0;
  window.addEventListener("resize", function () {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(fit);
  });
  fit();
})();
