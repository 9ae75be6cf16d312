// effbench compare view: two models side by side from the pairs computed at build time. The models are JSON
// in the page; model i's pairs with every later model are in data/compare/i.js, loaded when first needed
// (a script element, so that it works from file:// too). The pair lives in the URL hash, #a=SLUG&b=SLUG; an
// unknown or missing model falls back to the top two. On a large board only some pairs are computed (data.selection
// says which, data.files lists the models that have a pair file); for any other pair the view shows the two
// models' score differences without an interval, and data/compare/block-k.js holds the pairs of data.per_file
// models.
(function () {
  "use strict";
  var source = document.getElementById("compare-data");
  var form = document.getElementById("compare-controls");
  var section = document.getElementById("comparison");
  if (!source || !form || !section) { return; }
  var data = JSON.parse(source.textContent);
  form.hidden = false;
  section.hidden = false;

  var bySlug = {};
  data.models.forEach(function (model, index) { bySlug[model.slug] = index; bySlug[model.name] = index; });
  if (!form.elements.b.options.length) {  // a large board ships the models' options once, in chooser A
    Array.prototype.forEach.call(form.elements.a.options, function (option) {
      form.elements.b.appendChild(option.cloneNode(true)).selected = false;
    });
  }
  var order = Array.prototype.map.call(form.elements.a.options, function (option) { return bySlug[option.value]; });
  var loaded = {};  // model index -> its pairs with later models
  var waiting = null;  // the pair to show once its file has loaded
  window.effbenchComparePairs = function (first, pairs) {
    loaded[first] = pairs;
    if (waiting && Math.min(waiting[0], waiting[1]) === first) { var next = waiting; waiting = null; show(next); }
  };

  function show(chosen) {
    var first = Math.min(chosen[0], chosen[1]);
    if (data.files && data.files.indexOf(first) === -1) { loaded[first] = {}; }
    if (loaded[first]) { render(chosen[0], chosen[1]); return; }
    waiting = chosen;
    var script = document.createElement("script");
    script.src = data.pairs + "/" + (data.per_file ? "block-" + Math.floor(first / data.per_file) : first) + ".js";
    script.onerror = function () {
      document.getElementById("overall").textContent = "The comparison could not be loaded (" + script.src + ").";
    };
    document.body.appendChild(script);
  }

  function text(tag, content, className) {
    var element = document.createElement(tag);
    element.textContent = content;
    if (className) { element.className = className; }
    return element;
  }

  function fmt(value) { return value === null ? "–" : value.toFixed(3); }
  function signed(value) { return value === null ? "–" : (value > 0 ? "+" : value < 0 ? "−" : "") + Math.abs(value).toFixed(3); }

  function pair(a, b) {  // [difference, lo, hi, p] of a minus b, and the items with a's score first
    var flip = a > b;
    var entry = loaded[flip ? b : a][String(flip ? a : b)];
    if (!entry) { return unpaired(a, b); }
    function turn(triple) {
      if (!flip) { return triple; }
      return [triple[0] === null ? null : -triple[0], triple[2] === null ? null : -triple[2],
        triple[1] === null ? null : -triple[1], triple[3]];
    }
    return {
      overall: turn(entry.overall),
      scenarios: entry.scenarios.map(turn),
      aBetter: entry.counts[flip ? 1 : 0], bBetter: entry.counts[flip ? 0 : 1], same: entry.counts[2],
      items: entry.items.map(function (item) {
        return { scenario: item[0], id: item[1], a: flip ? item[3] : item[2], b: flip ? item[2] : item[3],
          board: item[4] };
      }).sort(function (x, y) { return (y.a - y.b) - (x.a - x.b); })
    };
  }

  function unpaired(a, b) {  // a pair not computed at build time: the differences of the scores, no interval
    var A = data.models[a], B = data.models[b];
    function minus(x, y) { return x === null || y === null ? null : x - y; }
    return {
      unpaired: true, overall: [minus(A.score, B.score), null, null],
      scenarios: A.scenarios.map(function (value, s) { return [minus(value, B.scenarios[s]), null, null]; }),
      aBetter: 0, bBetter: 0, same: 0, items: []
    };
  }

  // A verdict needs both the interval and the sign-flip test (triple[3], its p-value): with few items
  // that differ, every one going one way puts the interval above 0 while the test cannot reject.
  function verdict(triple, nameA, nameB) {
    if (triple[1] === null || triple[2] === null) { return triple[0] === null ? "no result" : "no interval"; }
    var tested = triple[3] !== undefined && triple[3] !== null && triple[3] < data.alpha;
    if (tested && triple[1] > 0) { return nameA + " better"; }
    if (tested && triple[2] < 0) { return nameB + " better"; }
    if (triple[1] > 0 || triple[2] < 0) { return "no clear difference (too few items differ)"; }
    return "no clear difference";
  }

  function intervalParts(triple) {  // the difference, and its interval in brackets ("" without one)
    if (triple[0] === null) { return ["–", ""]; }
    return [signed(triple[0]), triple[1] === null ? "" : "(" + signed(triple[1]) + " to " + signed(triple[2]) + ")"];
  }

  function intervalText(triple) { return intervalParts(triple).filter(Boolean).join(" "); }

  // A phone shows each scenario and item as a block of lines, each cell with its label (style.css shows the
  // labels there only).
  function labelled(cell, label) {
    cell.setAttribute("data-label", label);
    return cell;
  }

  function intervalCell(triple) {  // the difference and its interval, which may go to a second line
    var cell = document.createElement("td");
    cell.className = "num interval-cell";
    var parts = intervalParts(triple);
    cell.appendChild(text("span", parts[0], "nowrap"));
    if (parts[1]) {
      cell.appendChild(document.createTextNode(" "));
      cell.appendChild(text("span", parts[1], "nowrap"));
    }
    return cell;
  }

  function drawing(triple, extent) {  // a bar for the interval and a dot for the difference, 0 in the middle
    var box = document.createElement("span");
    box.className = "diff-bar";
    box.setAttribute("aria-hidden", "true");
    if (triple[0] === null) { return box; }
    function at(value) { return (50 + 50 * value / extent).toFixed(1) + "%"; }
    if (triple[1] !== null) {
      var bar = document.createElement("i");
      bar.style.left = at(triple[1]);
      bar.style.width = (50 * (triple[2] - triple[1]) / extent).toFixed(1) + "%";
      box.appendChild(bar);
    }
    var dot = document.createElement("b");
    dot.style.left = at(triple[0]);
    box.appendChild(dot);
    return box;
  }

  function readHash() {
    var params = new URLSearchParams(window.location.hash.replace(/^#/, ""));
    var a = bySlug[params.get("a")], b = bySlug[params.get("b")];
    if (a === undefined) { a = order[0]; }
    if (b === undefined || b === a) { b = order[0] === a ? order[1] : order[0]; }
    return [a, b];
  }

  function render(a, b) {
    var A = data.models[a], B = data.models[b];
    form.elements.a.value = A.slug;
    form.elements.b.value = B.slug;
    document.title = A.name + " vs " + B.name + " · " + document.title.split(" · ").slice(-1)[0];
    var result = pair(a, b);
    Array.prototype.forEach.call(section.querySelectorAll(".a-name"), function (th) { th.textContent = A.name; });
    Array.prototype.forEach.call(section.querySelectorAll(".b-name"), function (th) { th.textContent = B.name; });
    document.getElementById("overall-title").textContent = A.name + " vs " + B.name;
    var overall = document.getElementById("overall");
    overall.textContent = "";
    overall.appendChild(text("strong", verdict(result.overall, A.name, B.name) + " overall: "));
    overall.appendChild(document.createTextNode(
      A.name + " (rank " + A.rank + ", score " + fmt(A.score) + ") minus " + B.name + " (rank " + B.rank +
      ", score " + fmt(B.score) + ") = " + intervalText(result.overall) +
      (result.unpaired ? ". " + data.selection : ", " + data.confidence + " interval.")));
    document.getElementById("compare-caption").textContent = "Paired difference " + A.name + " − " + B.name +
      " in each scenario, with its " + data.confidence + " interval (" + data.resamples + " bootstrap resamples)";
    var extent = 1e-9;
    result.scenarios.concat([result.overall]).forEach(function (triple) {
      triple.slice(0, 3).forEach(function (value) { if (value !== null) { extent = Math.max(extent, Math.abs(value)); } });
    });
    var body = document.querySelector("#compare-table tbody");
    body.textContent = "";
    data.scenarios.forEach(function (scenario, s) {
      var row = document.createElement("tr");
      var head = document.createElement("th");
      head.scope = "row";
      var link = text("a", scenario.name);
      link.href = scenario.href;
      head.appendChild(link);
      row.appendChild(head);
      row.appendChild(labelled(text("td", fmt(A.scenarios[s]), "num ab-score"), "A: " + A.name));
      row.appendChild(labelled(text("td", fmt(B.scenarios[s]), "num ab-score"), "B: " + B.name));
      row.appendChild(labelled(intervalCell(result.scenarios[s]), "A − B"));
      var cell = document.createElement("td");
      cell.className = "diff-col";
      cell.appendChild(drawing(result.scenarios[s], extent));
      row.appendChild(cell);
      row.appendChild(labelled(text("td", verdict(result.scenarios[s], A.name, B.name), "verdict"), "Verdict: "));
      body.appendChild(row);
    });
    var total = result.aBetter + result.bBetter + result.same;
    document.getElementById("item-counts").textContent = total ? (
      "On the " + total.toLocaleString("en") + " items both were scored on: " + A.name + " scored higher on " +
      result.aBetter.toLocaleString("en") + ", " + B.name + " on " + result.bBetter.toLocaleString("en") +
      ", and they scored the same on " + result.same.toLocaleString("en") + ".") :
      result.unpaired ? "The items are compared for the same pairs as the intervals." :
      "These results have no per-item scores for both models.";
    var items = document.querySelector("#items-table tbody");
    items.textContent = "";
    result.items.forEach(function (item) {
      var row = document.createElement("tr");
      row.appendChild(labelled(text("td", data.scenarios[item.scenario].name), "Scenario"));
      row.appendChild(labelled(text("th", item.id), "Item"));
      row.lastChild.scope = "row";
      row.appendChild(labelled(text("td", fmt(item.a), "num"), "A: " + A.name));
      row.appendChild(labelled(text("td", fmt(item.b), "num"), "B: " + B.name));
      row.appendChild(labelled(text("td", fmt(item.board), "num"), "Other models' mean"));
      items.appendChild(row);
    });
  }


  function writeHash(a, b) {
    history.replaceState(null, "", "#a=" + encodeURIComponent(data.models[a].slug) + "&b=" +
      encodeURIComponent(data.models[b].slug));
  }

  form.addEventListener("change", function () {
    var a = bySlug[form.elements.a.value], b = bySlug[form.elements.b.value];
    if (a === b) { b = order[0] === a ? order[1] : order[0]; }
    writeHash(a, b);
    show([a, b]);
  });
  document.getElementById("swap").addEventListener("click", function () {
    var chosen = readHash();
    writeHash(chosen[1], chosen[0]);
    show([chosen[1], chosen[0]]);
  });
  window.addEventListener("hashchange", function () { show(readHash()); });
  show(readHash());
}());
