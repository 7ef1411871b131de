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
