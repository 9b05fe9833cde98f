/* The front page's table: sort by any column, filter by therapist, site and
   free text. Copied into the page (reports/index.py): nothing is fetched.
   Without this script the table is complete, in the dataset's order. */
(function () {
  "use strict";
  var table = document.getElementById("children");
  if (!table) {
    return;
  }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var form = document.querySelector(".sp-filters");
  var shown = document.getElementById("shown");
  var noMatch = document.getElementById("no-match");
  var text = document.getElementById("filter-text");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));

  function key(row, column) {
    return row.cells[column].getAttribute("data-sort") || "";
  }

  function compare(a, b, column, numeric, direction) {
    var x = key(a, column);
    var y = key(b, column);
    if (x === "" || y === "") {  // blanks last, whichever the direction
      return x === y ? order(a, b) : (x === "" ? 1 : -1);
    }
    var result;
    if (numeric) {
      result = parseFloat(x) - parseFloat(y);
    } else {
      result = x.localeCompare(y, undefined, {numeric: true, sensitivity: "base"});
    }
    return result === 0 ? order(a, b) : direction * result;
  }

  function order(a, b) {
    return Number(a.getAttribute("data-order")) - Number(b.getAttribute("data-order"));
  }

  function sortBy(column) {
    var th = headers[column];
    var direction = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    var numeric = th.getAttribute("data-type") === "number";
    headers.forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", direction === 1 ? "ascending" : "descending");
    rows.sort(function (a, b) { return compare(a, b, column, numeric, direction); });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function filter() {
    var terms = text ? text.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    var wanted = selects.map(function (select) {
      return [select.getAttribute("data-filter"), select.value];
    });
    var count = 0;
    rows.forEach(function (row) {
      var search = row.getAttribute("data-search") || "";
      var match = wanted.every(function (pair) {
        return !pair[1] || row.getAttribute("data-" + pair[0]) === pair[1];
      }) && terms.every(function (term) { return search.indexOf(term) !== -1; });
      row.hidden = !match;
      count += match ? 1 : 0;
    });
    shown.textContent = count === rows.length
      ? "Showing all " + rows.length + " children."
      : "Showing " + count + " of " + rows.length + " children.";
    noMatch.hidden = count !== 0;
  }

  headers.forEach(function (th, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sp-sort";
    while (th.firstChild) {
      button.appendChild(th.firstChild);
    }
    var arrow = document.createElement("span");  // the sort indicator: seen, not read
    arrow.className = "sp-arrow";
    arrow.setAttribute("aria-hidden", "true");
    button.appendChild(arrow);
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(column); });
  });
  if (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("input", filter);
    form.addEventListener("change", filter);
    // "reset" fires before the fields are cleared: clear them here and filter
    // at once, so the table is whole again by the time the click returns.
    form.addEventListener("reset", function (event) {
      event.preventDefault();
      if (text) {
        text.value = "";
      }
      selects.forEach(function (select) { select.selectedIndex = 0; });
      filter();
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll(".sp-js-only"), function (node) {
    node.hidden = false;
  });
  filter();
}());
