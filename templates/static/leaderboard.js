// effbench leaderboard: sort, search, filter and choose columns; the view lives in the URL hash.
// Without JavaScript the page shows the table in rank order, grouped by tier: every model, or on a large board
// the first rows, with the rest in the file named by the table's data-rows, loaded here with a script element
// (which works from file://, where a fetch does not); then search, filters and sorting reach every model and
// the table shows the first matching rows with a button for more.
(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  var form = document.getElementById("leaderboard-controls");
  if (!table || !form) { return; }
  form.hidden = false;
  table.classList.add("js-columns");  // from now on the script, not the phone stylesheet, shows columns

  var bodies = Array.prototype.slice.call(table.tBodies);
  var rows = [];  // every model row with the tbody it started in, in rank order
  bodies.forEach(function (body) {
    Array.prototype.forEach.call(body.rows, function (row) {
      if (row.classList.contains("model-row")) { rows.push({ row: row, body: body }); }
    });
  });
  var rowsSource = table.getAttribute("data-rows");
  var pageSize = rowsSource ? rows.length : 0;  // rows shown at a time on a large board (0: all)
  var limit = pageSize || Infinity;
  var loadedAll = !rowsSource;
  var moreRows = document.getElementById("more-rows");
  var showMore = document.getElementById("show-more");
  var headers = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-key]"));
  var status = document.getElementById("leaderboard-status");
  var noMatch = document.getElementById("no-match");
  var fields = ["q", "tier", "org", "licence", "complete", "open", "params-min", "params-max", "released-min",
                "released-max"];
  var optional = Array.prototype.slice.call(table.tHead.querySelectorAll("th[data-col]"))
    .map(function (th) { return th.dataset.col; });
  var phone = window.matchMedia("(max-width: 640px)");
  var state;

  function defaults() {
    var fresh = { sort: "rank", dir: "asc", cols: null };  // cols null: the default for the screen
    fields.forEach(function (name) { fresh[name] = ""; });
    return fresh;
  }

  function firstDirection(key) {
    var header = headers.filter(function (th) { return th.dataset.key === key; })[0];
    return (header && header.dataset.first) || "asc";
  }

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    state = defaults();
    var sort = params.get("sort");
    if (sort && headers.some(function (th) { return th.dataset.key === sort; })) {
      state.sort = sort;
      var dir = params.get("dir");
      state.dir = dir === "asc" || dir === "desc" ? dir : firstDirection(sort);
    }  // an unknown column, or none: the default order, whatever `dir` says
    fields.forEach(function (name) { state[name] = params.get(name) || ""; });
    if (params.has("cols")) {
      state.cols = params.get("cols").split(",").filter(function (key) { return optional.indexOf(key) !== -1; });
    }
  }

  function writeHash() {
    var params = new URLSearchParams();
    if (state.sort !== "rank" || state.dir !== "asc") { params.set("sort", state.sort); params.set("dir", state.dir); }
    fields.forEach(function (name) { if (state[name]) { params.set(name, state[name]); } });
    if (state.cols !== null) { params.set("cols", state.cols.join(",")); }
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

  function inRange(value, low, high, numeric) {
    if (!low && !high) { return true; }
    if (!value) { return false; }  // unknown values do not match a range
    var v = numeric ? Number(value) : value;
    if (low && v < (numeric ? Number(low) : low)) { return false; }
    if (high && v > (numeric ? Number(high) : high)) { return false; }
    return true;
  }

  function matches(row) {
    var query = state.q.trim().toLowerCase();
    if (query && row.dataset.model.toLowerCase().indexOf(query) === -1) { return false; }
    if (state.tier && row.dataset.tier !== state.tier) { return false; }
    if (state.org && row.dataset.org !== state.org) { return false; }
    if (state.licence && row.dataset.licence !== state.licence) { return false; }
    if (state.complete && row.dataset.complete !== state.complete) { return false; }
    if (state.open && row.dataset.open !== state.open) { return false; }
    if (!inRange(row.dataset.params, state["params-min"], state["params-max"], true)) { return false; }
    return inRange(row.dataset.released, state["released-min"], state["released-max"], false);
  }

  function shownColumns() {
    if (state.cols !== null) { return state.cols; }
    return phone.matches ? [] : optional;  // a phone shows rank, model and score; a wide screen everything
  }

  function showColumns() {
    var shown = shownColumns();
    var hidden = {};
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
      if (th.dataset.col && shown.indexOf(th.dataset.col) === -1) { hidden[index] = true; }
    });
    Array.prototype.forEach.call(table.rows, function (row) {
      if (row.classList.contains("tier-band")) { return; }
      Array.prototype.forEach.call(row.cells, function (cell, index) { cell.hidden = !!hidden[index]; });
    });
    var bands = table.querySelectorAll("tr.tier-band th");
    var visible = table.tHead.rows[0].cells.length - Object.keys(hidden).length;
    Array.prototype.forEach.call(bands, function (th) { th.colSpan = visible; });
    Array.prototype.forEach.call(form.querySelectorAll('input[name="col"]'), function (box) {
      box.checked = shown.indexOf(box.value) !== -1;
    });
    var group = form.querySelector('input[data-group="scenario"]');
    if (group) {
      var scenarioBoxes = Array.prototype.slice.call(form.querySelectorAll('input[name="col"][value^="scenario-"]'));
      var on = scenarioBoxes.filter(function (box) { return box.checked; }).length;
      group.checked = on === scenarioBoxes.length;
      group.indeterminate = on > 0 && on < scenarioBoxes.length;
    }
  }

  function render() {
    var inRankOrder = state.sort === "rank" && state.dir === "asc";
    var ordered = rows.slice();
    if (!inRankOrder) { ordered.sort(compare); }
    var matching = 0;
    ordered.forEach(function (entry) {
      (inRankOrder ? entry.body : bodies[0]).appendChild(entry.row);
      var match = matches(entry.row);
      if (match) { matching += 1; }
      entry.row.hidden = !match || matching > limit;
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
    showColumns();
    var shown = Math.min(matching, limit);
    if (!loadedAll) {
      status.textContent = shown + " of the first " + rows.length + " models shown; loading the others";
    } else if (matching > limit) {
      status.textContent = "The first " + shown + " of " + matching + " matching models shown (" + rows.length +
        " in all)";
    } else {
      status.textContent = shown + " of " + rows.length + " models shown";
    }
    if (showMore) {
      showMore.hidden = !(matching > limit);
      showMore.textContent = "Show " + Math.min(pageSize, matching - shown) + " more models";
    }
    if (noMatch) { noMatch.hidden = shown !== 0 || !loadedAll; }
  }

  function firstPage() { limit = pageSize || Infinity; }

  if (showMore) {
    showMore.addEventListener("click", function () { limit += pageSize; render(); });
  }
  if (rowsSource) {
    // The rows after the first ones: one string of rows per tbody, in the table's order.
    window.effbenchLeaderboardRows = function (later) {
      var merged = [];
      bodies.forEach(function (body, index) {
        rows.forEach(function (entry) { if (entry.body === body) { merged.push(entry); } });
        if (!later[index]) { return; }
        var holder = document.createElement("tbody");
        holder.innerHTML = later[index];
        Array.prototype.slice.call(holder.rows).forEach(function (row) {
          body.appendChild(row);
          merged.push({ row: row, body: body });
        });
        body.hidden = false;
      });
      rows = merged;
      loadedAll = true;
      if (moreRows) { moreRows.hidden = true; }
      render();
    };
    var script = document.createElement("script");
    script.src = rowsSource;
    script.onerror = function () {
      status.textContent = "The other models could not be loaded (" + script.src + "); the full table lists them.";
    };
    document.body.appendChild(script);
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
      firstPage();
      writeHash();
      render();
    });
  });
  form.addEventListener("input", function (event) {
    var target = event.target;
    if (target.name === "col" || target.dataset.group) {
      var shown = shownColumns().slice();
      var keys = target.dataset.group ? Array.prototype.map.call(
        form.querySelectorAll('input[name="col"][value^="' + target.dataset.group + '-"]'),
        function (box) { return box.value; }) : [target.value];
      keys.forEach(function (key) {
        var at = shown.indexOf(key);
        if (target.checked && at === -1) { shown.push(key); }
        if (!target.checked && at !== -1) { shown.splice(at, 1); }
      });
      state.cols = optional.filter(function (key) { return shown.indexOf(key) !== -1; });
    } else {
      fields.forEach(function (name) { if (form.elements[name]) { state[name] = form.elements[name].value; } });
    }
    firstPage();
    writeHash();
    render();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });

  function clear() {
    var cols = state.cols;
    state = defaults();
    state.cols = cols;  // clearing the filters keeps the chosen columns
    firstPage();
    writeHash();
    render();
  }
  form.addEventListener("reset", function () { window.setTimeout(clear, 0); });
  var clearButton = document.getElementById("clear-filters");
  if (clearButton) { clearButton.addEventListener("click", clear); }
  window.addEventListener("hashchange", function () { readHash(); firstPage(); render(); });
  phone.addEventListener("change", render);

  readHash();
  var toggle = form.querySelector(".filters-toggle");
  var filterFields = document.getElementById("filter-fields");
  function showFilters(open) {
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
    filterFields.classList.toggle("collapsed", !open);
  }
  if (toggle && filterFields) {
    toggle.hidden = !phone.matches;  // on a wide screen every filter is in view anyway
    toggle.addEventListener("click", function () { showFilters(toggle.getAttribute("aria-expanded") !== "true"); });
    // A phone shows the table first; the filters are one tap away (open when the link sets one).
    showFilters(!phone.matches || fields.slice(1).some(function (name) { return state[name]; }));
  }
  var legend = document.querySelector("details.legend");
  if (legend && phone.matches) { legend.open = false; }
  render();
}());
