// Buttons of the agreements page: propose a draft version for signature, or sign a proposed one for the login's
// department (for the content hash shown), then reload: the page shows who signed when and whether it counts.
// No inline script (the CSP forbids it).
function agreementAction(button, path, body) {
  var csrf = document.getElementById("csrf").value;
  var error = document.getElementById("action-error");
  button.disabled = true;
  fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
    body: JSON.stringify(body)
  }).then(function (response) {
    if (response.ok) { window.location.reload(); return null; }
    return response.json().then(function (answer) {
      error.textContent = (answer && answer.message) || ("Could not do that (HTTP " + response.status + ").");
      error.hidden = false;
      button.disabled = false;
    });
  });
}
document.querySelectorAll("button.sign").forEach(function (button) {
  button.addEventListener("click", function () {
    agreementAction(button, "/api/v1/agreements/approvals/" + button.getAttribute("data-approval") + "/sign",
      { content_hash: button.getAttribute("data-hash") });
  });
});
document.querySelectorAll("button.propose").forEach(function (button) {
  button.addEventListener("click", function () {
    agreementAction(button, "/api/v1/agreements/propose",
      { agreement: button.getAttribute("data-agreement"), version: Number(button.getAttribute("data-version")) });
  });
});
