// "← back" links go to the previous page (a plain link to the dashboard without JS); no inline script, for the CSP.
document.querySelectorAll("a[data-back]").forEach(function (a) {
  a.addEventListener("click", function (e) {
    if (window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });
});

// Draws each chart the report declares, from the same rows the tables show (no numbers are computed here):
// hover text is the API's formatted value, the axis reads in the column's unit, a KPI's target is a dashed line.
(function () {
  var dataEl = document.getElementById("report-data");
  if (!dataEl || typeof Plotly === "undefined") return;
  var report = JSON.parse(dataEl.textContent);
  var tables = {};
  report.tables.forEach(function (t) { tables[t.name] = t; });
  function attr(fig, name) {
    var raw = fig.getAttribute(name);
    return raw ? JSON.parse(raw) : null;
  }
  document.querySelectorAll("figure.chart").forEach(function (fig) {
    var spec = JSON.parse(fig.getAttribute("data-chart"));
    var t = tables[spec.table];
    if (!t || !t.rows.length) { fig.querySelector(".plot").textContent = "No data to chart."; return; }
    var groups = {};
    var where = spec.where || {};
    var shown = t.formatted || [];
    t.rows.forEach(function (r, i) {
      if (!Object.keys(where).every(function (k) { return r[k] === where[k]; })) return;
      if (spec.skip_null && (r[spec.y] === null || r[spec.y] === undefined)) return;  // e.g. a KPI with no target
      var g = spec.color ? ((shown[i] || {})[spec.color] || String(r[spec.color])) : (spec.name || spec.y);
      (groups[g] = groups[g] || { x: [], y: [], text: [] });
      groups[g].x.push(r[spec.x]); groups[g].y.push(r[spec.y]);
      groups[g].text.push((shown[i] || {})[spec.y] || String(r[spec.y]));
      if (spec.measure) (groups[g].measure = groups[g].measure || []).push(r[spec.measure]);  // waterfall bars
    });
    var traces = Object.keys(groups).map(function (g) {
      if (spec.kind === "waterfall") {  // a start bar, one bar per driver, an end bar (absolute/relative/total)
        return { type: "waterfall", x: groups[g].x, y: groups[g].y, measure: groups[g].measure, text: groups[g].text,
                 textposition: "none", connector: { line: { color: "#8c959f" } },
                 increasing: { marker: { color: "#1a7f37" } }, decreasing: { marker: { color: "#cf222e" } },
                 totals: { marker: { color: "#0969da" } }, hovertemplate: "%{x}: %{text}<extra></extra>" };
      }
      var tr = { name: g, x: groups[g].x, y: groups[g].y, type: spec.kind === "line" ? "scatter" : "bar",
                 text: groups[g].text, textposition: "none", hovertemplate: "%{x}: %{text}<extra>" + g + "</extra>" };
      if (spec.kind === "line") tr.mode = "lines+markers";
      if (spec.orientation === "h") { tr.orientation = "h"; tr.x = groups[g].y; tr.y = groups[g].x; }
      return tr;
    });
    var targets = attr(fig, "data-targets");
    if (!targets && spec.target) {  // the target in force per period, a column of the charted table
      targets = { x: [], y: [], text: [] };
      t.rows.forEach(function (r, i) {
        targets.x.push(r[spec.x]); targets.y.push(r[spec.target]);
        targets.text.push((shown[i] || {})[spec.target] || "");
      });
      if (targets.y.every(function (y) { return y === null; })) targets = null;
    }
    if (targets && targets.x && targets.x.length) {
      traces.push({ name: "target", x: targets.x, y: targets.y, type: "scatter", mode: "lines+markers",
                    line: { dash: "dash", color: "#b42318" }, marker: { symbol: "line-ew-open", size: 14 },
                    text: targets.text, connectgaps: false, hovertemplate: "%{x}: target %{text}<extra></extra>" });
      fig.setAttribute("data-target-line", "1");
    }
    var axis = attr(fig, "data-axis") || {};
    var yaxis = Object.assign({ automargin: true }, axis);
    var layout = { margin: { l: 60, r: 10, t: 10, b: 60 }, barmode: spec.barmode || "group", autosize: true,
                   legend: { orientation: "h" }, yaxis: yaxis, xaxis: { automargin: true } };
    if (spec.orientation === "h") { layout.xaxis = Object.assign({ automargin: true }, axis); layout.yaxis = { automargin: true }; }
    Plotly.newPlot(fig.querySelector(".plot"), traces, layout, { responsive: true, displaylogo: false });
    fig.setAttribute("data-rendered", "1");
  });
})();
