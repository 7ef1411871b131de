// Approve buttons of the scoring page: sign the proposed version for the login's department, for the content
// hash shown, then reload (the page shows who signed when, and whether the version is in force). No inline script.
document.querySelectorAll("button.approve").forEach(function (button) {
  button.addEventListener("click", function () {
    var csrf = document.getElementById("csrf").value;
    var error = document.getElementById("approve-error");
    button.disabled = true;
    fetch("/api/v1/scoring/approvals/" + button.getAttribute("data-approval") + "/sign", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ content_hash: button.getAttribute("data-hash") })
    }).then(function (response) {
      if (response.ok) { window.location.reload(); return null; }
      return response.json().then(function (body) {
        error.textContent = (body && body.message) || ("Could not approve (HTTP " + response.status + ").");
        error.hidden = false;
        button.disabled = false;
      });
    });
  });
});

// The calibration chart of the "Model and calibration" section: the model's predicted conversion (x) against the
// observed conversion (y) per probability bin, with the diagonal a calibrated model sits on. The numbers are the
// report's rows; the hover text is the API's formatted values (revalign.display), nothing is computed here.
(function () {
  var fig = document.getElementById("calibration-chart");
  var dataEl = document.getElementById("report-data");
  if (!fig || !dataEl || typeof Plotly === "undefined") return;
  var report = JSON.parse(dataEl.textContent);
  var table = report.tables.filter(function (t) { return t.name === fig.getAttribute("data-table"); })[0];
  if (!table || !table.rows.length) { fig.querySelector(".plot").textContent = "No data to chart."; return; }
  var shown = table.formatted || [];
  var text = table.rows.map(function (r, i) {
    var f = shown[i] || {};
    return "predicted " + f.predicted + ", observed " + f.observed + " (" + f.leads + " leads)";
  });
  var bins = { name: "model", x: table.rows.map(function (r) { return r.predicted; }),
               y: table.rows.map(function (r) { return r.observed; }), type: "scatter", mode: "lines+markers",
               text: text, hovertemplate: "%{text}<extra></extra>" };
  var diagonal = { name: "calibrated", x: [0, 1], y: [0, 1], type: "scatter", mode: "lines",
                   line: { dash: "dash", color: "#667085" }, hoverinfo: "skip" };
  var axis = { range: [0, 1], tickformat: ".0%", automargin: true };
  var layout = { margin: { l: 60, r: 10, t: 10, b: 60 }, legend: { orientation: "h" }, autosize: true,
                 xaxis: Object.assign({ title: { text: "predicted" } }, axis),
                 yaxis: Object.assign({ title: { text: "observed" } }, axis) };
  Plotly.newPlot(fig.querySelector(".plot"), [diagonal, bins], layout, { responsive: true, displaylogo: false });
  fig.setAttribute("data-rendered", "1");
})();
