(function () {
  "use strict";
  var mx = document.getElementById("mx");
  var RANK = {"error": 0, "fail": 1, "waived": 2, "pass": 3, "not-applicable": 4, "skip": 5};
  var LEVEL = {"MUST": 0, "SHOULD": 1, "MAY": 2};

  function openTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (!el) return;
    for (var p = el; p; p = p.parentElement) {
      if (p.tagName === "DETAILS") p.open = true;
    }
    el.scrollIntoView({block: "start"});
  }
  window.addEventListener("hashchange", openTarget);
  if (location.hash) openTarget();
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest && ev.target.closest("a[href^='#']");
    if (a && a.getAttribute("href") === location.hash) openTarget();
  });

  if (!mx) return;
  var boxes = Array.prototype.slice.call(document.querySelectorAll(".controls input[type=checkbox]"));
  var bodies = Array.prototype.slice.call(mx.querySelectorAll("tbody.req"));
  var groups = Array.prototype.slice.call(mx.querySelectorAll("tbody.grp"));
  var sortKey = "order", sortDir = 1;

  function checked(kind) {
    var out = {};
    boxes.forEach(function (b) { if (b.dataset.f === kind && b.checked) out[b.value] = true; });
    return out;
  }

  function apply() {
    var vs = checked("v"), ls = checked("l"), shown = 0;
    bodies.forEach(function (tb) {
      var cells = tb.querySelectorAll("td[data-v]"), any = false;
      for (var i = 0; i < cells.length; i++) {
        var on = !!vs[cells[i].dataset.v];
        cells[i].classList.toggle("dim", !on);
        if (on) any = true;
      }
      if (!cells.length) any = !!vs[tb.dataset.v];
      var show = any && !!ls[tb.dataset.level];
      tb.hidden = !show;
      if (show) shown++;
    });
    groups.forEach(function (g) {
      var visible = grouped() && bodies.some(function (tb) {
        return !tb.hidden && tb.dataset.group === g.dataset.group;
      });
      g.hidden = !visible;
    });
    var out = document.getElementById("shown");
    if (out) out.textContent = shown + " of " + bodies.length + " requirements shown";
  }

  function grouped() { return sortKey === "order" && sortDir === 1; }

  function key(tb) {
    if (sortKey === "level") return LEVEL[tb.dataset.level];
    if (sortKey === "verdict") return RANK[tb.dataset.v];
    if (sortKey === "id") return tb.dataset.id;
    return +tb.dataset.order;
  }

  function sortBy(k) {
    sortDir = (k === sortKey) ? -sortDir : 1;
    sortKey = k;
    var sorted = bodies.slice().sort(function (a, b) {
      var x = key(a), y = key(b);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return c * sortDir || (+a.dataset.order - +b.dataset.order);
    });
    if (grouped()) {
      groups.forEach(function (g) {
        mx.appendChild(g);
        sorted.forEach(function (tb) { if (tb.dataset.group === g.dataset.group) mx.appendChild(tb); });
      });
    } else {
      sorted.forEach(function (tb) { mx.appendChild(tb); });
    }
    Array.prototype.forEach.call(mx.querySelectorAll("th.sort"), function (th) {
      th.classList.remove("asc", "desc");
      if (th.dataset.sort === k) th.classList.add(sortDir === 1 ? "asc" : "desc");
    });
    apply();
  }

  Array.prototype.forEach.call(mx.querySelectorAll("th.sort button"), function (b) {
    b.addEventListener("click", function () { sortBy(b.parentElement.dataset.sort); });
  });
  boxes.forEach(function (b) { b.addEventListener("change", apply); });

  function only(verdicts) {
    boxes.forEach(function (b) {
      if (b.dataset.f === "v") b.checked = verdicts === null || verdicts.indexOf(b.value) >= 0;
      else b.checked = true;
    });
    apply();
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-only]"), function (el) {
    el.addEventListener("click", function () {
      var v = el.dataset.only;
      only(v === "all" ? null : v.split(" "));
    });
  });
  apply();
})();
