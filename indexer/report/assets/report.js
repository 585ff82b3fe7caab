/* blue-index report: tooltips, sortable tables, the filter box and search. No framework,
   no network beyond this report's own files; text from the index is only ever set with
   textContent, never parsed as HTML. */
(function () {
  "use strict";
  var root = document.body.getAttribute("data-root") || "";

  /* Tooltips: any element with data-tip, on hover and on keyboard focus. */
  var tip = document.getElementById("tip");
  function showTip(el) {
    var r = el.getBoundingClientRect();
    tip.textContent = el.getAttribute("data-tip");
    tip.hidden = false;
    var left = Math.min(r.left, window.innerWidth - tip.offsetWidth - 8);
    tip.style.left = Math.max(4, left) + "px";
    tip.style.top = (r.bottom + 6 + tip.offsetHeight > window.innerHeight
      ? r.top - tip.offsetHeight - 6 : r.bottom + 6) + "px";
  }
  function hideTip() { tip.hidden = true; }
  ["mouseover", "focusin"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      var el = e.target.closest && e.target.closest("[data-tip]");
      if (el) { showTip(el); }
    });
  });
  ["mouseout", "focusout"].forEach(function (type) {
    document.addEventListener(type, function (e) {
      if (e.target.closest && e.target.closest("[data-tip]")) { hideTip(); }
    });
  });

  /* Sortable tables: a button in each heading; cells may carry data-v (sort value). */
  function cellValue(row, i, numeric) {
    var c = row.children[i];
    var v = c ? (c.hasAttribute("data-v") ? c.getAttribute("data-v") : c.textContent) : "";
    return numeric ? (parseFloat(v) || 0) : v.toLowerCase();
  }
  document.querySelectorAll("table.sortable th button").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var th = btn.parentElement, table = th.closest("table"), body = table.tBodies[0];
      var i = Array.prototype.indexOf.call(th.parentElement.children, th);
      var numeric = btn.getAttribute("data-type") === "number";
      var asc = th.getAttribute("aria-sort") !== "ascending";
      th.parentElement.querySelectorAll("th").forEach(function (h) {
        h.setAttribute("aria-sort", "none");
      });
      th.setAttribute("aria-sort", asc ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = cellValue(a, i, numeric), y = cellValue(b, i, numeric);
        return (x < y ? -1 : x > y ? 1 : 0) * (asc ? 1 : -1);
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });

  /* The index's filter box: rows whose text holds every word typed. */
  var filter = document.getElementById("filter");
  if (filter) {
    filter.addEventListener("input", function () {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      document.querySelectorAll("#dialogues tbody tr").forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      document.getElementById("filter-empty").hidden = shown > 0;
    });
  }

  /* Search over search.js (the JSON index as a script, so it loads from file:// too),
     loaded on first use. Every word must match the start of a word of the block
     (label or body); "word*" is the same as "word"; results in index order. */
  var box = document.getElementById("search"), list = document.getElementById("search-results");
  var loading = false, pending = null;
  function load(then) {
    if (window.BLUE_SEARCH) { then(); return; }
    pending = then;
    if (loading) { return; }
    loading = true;
    var s = document.createElement("script");
    s.src = root + "search.js";
    s.onload = function () { if (pending) { pending(); } };
    document.head.appendChild(s);
  }
  function item(text, cls) {
    var span = document.createElement("span");
    span.textContent = text;
    if (cls) { span.className = cls; }
    return span;
  }
  function run() {
    var data = window.BLUE_SEARCH, q = box.value.toLowerCase();
    var words = q.split(/[^\p{L}\p{N}_]+/u).filter(Boolean);
    list.textContent = "";
    if (!data || !words.length) { return; }
    var found = 0;
    for (var i = 0; i < data.entries.length && found < 50; i++) {
      var e = data.entries[i], hay = " " + e[6];
      if (!words.every(function (w) { return hay.indexOf(" " + w) >= 0; })) { continue; }
      found += 1;
      var d = data.dialogues[e[0]], li = document.createElement("li");
      var a = document.createElement("a");
      a.href = root + d[2] + e[1];
      a.textContent = e[5] || e[7] || e[2];
      li.appendChild(a);
      li.appendChild(item(e[2] + " \u00b7 " + e[3] + (e[4] === null ? "" : " \u00b7 round " + e[4])
        + " \u00b7 " + d[1], "where"));
      li.className = "hit";
      list.appendChild(li);
    }
    if (!found) { list.appendChild(item("No block matches.", "where")); }
  }
  if (box) {
    box.addEventListener("focus", function () { load(function () {}); });
    box.addEventListener("input", function () { load(run); });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { box.value = ""; list.textContent = ""; }
    });
  }

  /* Printing: open every folded section so the paper copy is whole. */
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details").forEach(function (d) { d.open = true; });
  });
}());
