(function () {
  "use strict";
  var text = document.getElementById("f-text");
  var area = document.getElementById("f-area");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-sev]"));
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-finding]"));
  var counter = document.getElementById("f-count");
  function apply() {
    var q = (text.value || "").toLowerCase();
    var sevs = {};
    boxes.forEach(function (b) { sevs[b.getAttribute("data-sev")] = b.checked; });
    var shown = 0;
    items.forEach(function (el) {
      var ok = sevs[el.getAttribute("data-severity")] !== false &&
        (!area.value || el.getAttribute("data-area") === area.value) &&
        (!q || el.textContent.toLowerCase().indexOf(q) !== -1);
      el.classList.toggle("hidden", !ok);
      if (ok) { shown += 1; }
    });
    counter.textContent = shown + " of " + items.length + " findings shown";
  }
  [text, area].forEach(function (el) { el.addEventListener("input", apply); });
  boxes.forEach(function (b) { b.addEventListener("change", apply); });
  Array.prototype.forEach.call(document.querySelectorAll("button.copy"), function (btn) {
    btn.addEventListener("click", function () {
      var code = btn.parentNode.querySelector("code");
      var done = function () { btn.textContent = "Copied"; setTimeout(function () { btn.textContent = "Copy"; }, 1500); };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code.textContent).then(done, function () {});
      } else {
        var r = document.createRange(); r.selectNodeContents(code);
        var s = window.getSelection(); s.removeAllRanges(); s.addRange(r); done();
      }
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("th.sortable"), function (th) {
    th.addEventListener("click", function () {
      var table = th.closest("table"), body = table.tBodies[0];
      var idx = Array.prototype.indexOf.call(th.parentNode.children, th);
      var asc = th.getAttribute("data-dir") !== "asc";
      th.setAttribute("data-dir", asc ? "asc" : "desc");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[idx].getAttribute("data-sort") || a.cells[idx].textContent.trim();
        var y = b.cells[idx].getAttribute("data-sort") || b.cells[idx].textContent.trim();
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
  apply();
})();
