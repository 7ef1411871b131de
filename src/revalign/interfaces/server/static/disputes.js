// The disputes page: open a dispute, comment, assign, resolve. Each form posts JSON to /api/v1/disputes… with the
// session's CSRF token, then reloads, so what the page shows is always the server's state (nothing is kept here).
(function () {
  var section = document.getElementById("disputes");
  if (!section) return;
  var csrf = section.getAttribute("data-csrf") || "";

  function post(url, body, form) {
    var error = form.parentNode.querySelector(".dispute-error") || form.querySelector(".dispute-error");
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    function fail(text) {
      error.textContent = text;
      error.hidden = false;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    }
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (b) { return { ok: r.ok, body: b }; });
    }).then(function (res) {
      if (!res.ok) { fail(res.body.error || "Not saved."); return; }
      var anchor = "dispute-" + res.body.dispute.id;
      if (window.location.pathname === "/disputes" && !window.location.search) {
        window.location.hash = anchor;
        window.location.reload();
      } else {
        window.location.assign("/disputes#" + anchor);
      }
    }).catch(function () { fail("The server could not be reached; nothing was saved."); });
  }

  function value(form, name) {
    var input = form.querySelector("[name=" + name + "]");
    return input && input.value.trim() ? input.value.trim() : null;
  }

  var kind = document.getElementById("d-kind");
  function showFields() {
    document.querySelectorAll("#dispute-form [data-for]").forEach(function (label) {
      label.hidden = label.getAttribute("data-for") !== kind.value;
    });
  }
  if (kind) { kind.addEventListener("change", showFields); showFields(); }

  var create = document.getElementById("dispute-form");
  if (create) {
    create.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = { kind: kind.value, note: value(create, "note") || "" };
      var fields = { kpi: ["kpi", "period", "slice"], mql_rejection: ["lead_id"], record: ["table", "record_id"] };
      fields[kind.value].forEach(function (name) {
        var v = value(create, name);
        if (v === null) return;
        if (name === "slice") {
          var pairs = {};
          v.split(",").forEach(function (p) { var kv = p.split("="); if (kv.length === 2) pairs[kv[0].trim()] = kv[1].trim(); });
          body.slice = pairs;
        } else {
          body[name] = v;
        }
      });
      var dept = value(create, "department");
      if (dept) body.department = dept;
      post("/api/v1/disputes", body, create);
    });
  }

  section.querySelectorAll("form.dispute-step").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var id = form.closest("article").getAttribute("data-id");
      var step = form.getAttribute("data-step");
      var body = {};
      form.querySelectorAll("[name]").forEach(function (input) { body[input.name] = input.value; });
      post("/api/v1/disputes/" + encodeURIComponent(id) + "/" + step, body, form);
    });
  });
})();
