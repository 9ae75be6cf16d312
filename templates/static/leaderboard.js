// effbench leaderboard: sort, search and filter the table; the view lives in the URL hash.
// Without JavaScript the page shows the full table in rank order, grouped by tier.
(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  var form = document.getElementById("leaderboard-controls");
  if (!table || !form) { return; }
  form.hidden = false;

  var bodies = Array.prototype.slice.call(table.tBodies);
  var rows = [];  // every model row with the tbody it started in, in rank order
  bodies.forEach(function (body) {
    Array.prototype.forEach.call(body.rows, function (row) {
      if (row.classList.contains("model-row")) { rows.push({ row: row, body: body }); }
    });
  });
  var headers = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-key]"));
  var status = document.getElementById("leaderboard-status");
  var fields = ["q", "tier", "org", "open"];
  var state = { sort: "rank", dir: "asc", q: "", tier: "", org: "", open: "" };

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    state.sort = params.get("sort") || "rank";
    state.dir = params.get("dir") === "desc" ? "desc" : "asc";
    fields.forEach(function (name) { state[name] = params.get(name) || ""; });
    if (!headers.some(function (th) { return th.dataset.key === state.sort; })) { state.sort = "rank"; }
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (state.sort !== "rank" || state.dir !== "asc") { params.set("sort", state.sort); params.set("dir", state.dir); }
    fields.forEach(function (name) { if (state[name]) { params.set(name, state[name]); } });
    var hash = params.toString();
    history.replaceState(null, "", hash ? "#" + hash : window.location.pathname + window.location.search);
  }

  var columnOf = {};  // column key -> index of its cells in a row
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    if (th.dataset.key) { columnOf[th.dataset.key] = index; }
  });

  function cellValue(row, key) {
    var cell = row.cells[columnOf[key]];
    if (!cell) { return null; }
    var raw = cell.getAttribute("data-value");
    if (raw === null || raw === "") { return null; }
    var number = Number(raw);
    return isNaN(number) ? raw.toLowerCase() : number;
  }

  function compare(a, b) {
    var x = cellValue(a.row, state.sort), y = cellValue(b.row, state.sort);
    if (x === y) { return cellValue(a.row, "rank") - cellValue(b.row, "rank"); }
    if (x === null) { return 1; }  // missing values last, whatever the direction
    if (y === null) { return -1; }
    var order = x < y ? -1 : 1;
    return state.dir === "asc" ? order : -order;
  }

  function matches(row) {
    var query = state.q.trim().toLowerCase();
    if (query && row.dataset.model.toLowerCase().indexOf(query) === -1) { return false; }
    if (state.tier && row.dataset.tier !== state.tier) { return false; }
    if (state.org && row.dataset.org !== state.org) { return false; }
    if (state.open && row.dataset.open !== state.open) { return false; }
    return true;
  }

  function render() {
    var inRankOrder = state.sort === "rank" && state.dir === "asc";
    var ordered = rows.slice();
    if (!inRankOrder) { ordered.sort(compare); }
    ordered.forEach(function (entry) {
      (inRankOrder ? entry.body : bodies[0]).appendChild(entry.row);
      entry.row.hidden = !matches(entry.row);
    });
    bodies.forEach(function (body) {
      var band = body.querySelector("tr.tier-band");
      if (!band) { return; }
      var visible = Array.prototype.some.call(body.rows, function (row) {
        return row.classList.contains("model-row") && !row.hidden;
      });
      band.hidden = !inRankOrder || !visible;
    });
    headers.forEach(function (th) {
      var sorted = th.dataset.key === state.sort;
      th.setAttribute("aria-sort", sorted ? (state.dir === "asc" ? "ascending" : "descending") : "none");
    });
    fields.forEach(function (name) { if (form.elements[name]) { form.elements[name].value = state[name]; } });
    var shown = rows.filter(function (entry) { return !entry.row.hidden; }).length;
    status.textContent = shown + " of " + rows.length + " models shown";
  }

  headers.forEach(function (th) {
    var button = th.querySelector("button");
    button.addEventListener("click", function () {
      if (state.sort === th.dataset.key) {
        state.dir = state.dir === "asc" ? "desc" : "asc";
      } else {
        state.sort = th.dataset.key;
        state.dir = th.dataset.first || "asc";
      }
      writeHash();
      render();
    });
  });
  form.addEventListener("input", function () {
    fields.forEach(function (name) { if (form.elements[name]) { state[name] = form.elements[name].value; } });
    writeHash();
    render();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.addEventListener("reset", function () {
    window.setTimeout(function () {
      state = { sort: "rank", dir: "asc", q: "", tier: "", org: "", open: "" };
      writeHash();
      render();
    }, 0);
  });
  window.addEventListener("hashchange", function () { readHash(); render(); });

  readHash();
  render();
}());
