// "← back" links go to the previous page (a plain link to the dashboard without JS); no inline script, for the CSP.
document.querySelectorAll("a[data-back]").forEach(function (a) {
  a.addEventListener("click", function (e) {
    if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });
});

// Draws each chart the report declares, from the same rows the tables show (no numbers are computed here).
(function () {
  var dataEl = document.getElementById("report-data");
  if (!dataEl || typeof Plotly === "undefined") return;
  var report = JSON.parse(dataEl.textContent);
  var tables = {};
  report.tables.forEach(function (t) { tables[t.name] = t; });
  document.querySelectorAll("figure.chart").forEach(function (fig) {
    var spec = JSON.parse(fig.getAttribute("data-chart"));
    var t = tables[spec.table];
    if (!t || !t.rows.length) { fig.querySelector(".plot").textContent = "No data to chart."; return; }
    var groups = {};
    var where = spec.where || {};
    t.rows.filter(function (r) {
      return Object.keys(where).every(function (k) { return r[k] === where[k]; });
    }).forEach(function (r) {
      var g = spec.color ? String(r[spec.color]) : (spec.name || spec.y);
      (groups[g] = groups[g] || { x: [], y: [] });
      groups[g].x.push(r[spec.x]); groups[g].y.push(r[spec.y]);
    });
    var traces = Object.keys(groups).map(function (g) {
      var tr = { name: g, x: groups[g].x, y: groups[g].y, type: spec.kind === "line" ? "scatter" : "bar" };
      if (spec.kind === "line") tr.mode = "lines+markers";
      if (spec.orientation === "h") { tr.orientation = "h"; tr.x = groups[g].y; tr.y = groups[g].x; }
      return tr;
    });
    var layout = { margin: { l: 60, r: 10, t: 10, b: 60 }, barmode: spec.barmode || "group", autosize: true,
                   legend: { orientation: "h" }, yaxis: { automargin: true }, xaxis: { automargin: true } };
    Plotly.newPlot(fig.querySelector(".plot"), traces, layout, { responsive: true, displaylogo: false });
    fig.setAttribute("data-rendered", "1");
  });
})();
