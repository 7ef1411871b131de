// The audit page's confirm / dismiss / reopen controls: each posts JSON to /api/v1/audit/<id>/decision with the
// session's CSRF token, then reloads so every number on the page is the server's (no number is computed here).
(function () {
  var section = document.getElementById("findings");
  if (!section) return;
  var csrf = section.getAttribute("data-csrf") || "";
  section.querySelectorAll("form.decision").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var button = e.submitter;
      var status = button ? button.value : "confirmed";
      var reason = form.querySelector("input[name=reason]").value;
      var error = form.querySelector(".decision-error");
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
      fetch("/api/v1/audit/" + encodeURIComponent(form.getAttribute("data-finding")) + "/decision", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf, "Accept": "application/json" },
        body: JSON.stringify({ status: status, reason: reason || null })
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (res) {
        if (res.ok) { window.location.reload(); return; }
        error.textContent = res.body.error || "The decision was not saved.";
        error.hidden = false;
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      }).catch(function () {
        error.textContent = "The server could not be reached; the decision was not saved.";
        error.hidden = false;
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
    });
  });
})();
