"""``GET /api/v1/checks``: the sections of ``revalign check`` as JSON, for admins and RevOps only."""

from __future__ import annotations

from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project
from tests.interfaces.broken_project import assert_every_finding_is_placed, broken_project
from tests.interfaces.server.conftest import assert_canonical_error


def test_checks_lists_every_kind_of_finding_with_file_and_line(tmp_path):
    project = Project(broken_project(tmp_path))
    app = create_app(project, state_url="sqlite://", settings=ServerSettings())
    store = app.state.store
    for username, role in (("ops", "revops"), ("boss", "admin"), ("mkt", "marketing"), ("rep", "rep")):
        store.add_user(username, "password-123", role, owner_id="u1" if role == "rep" else None)
    client = TestClient(app)
    for allowed in ("ops", "boss"):
        token = store.create_token(allowed, "ci")
        response = client.get("/api/v1/checks", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["ok"] is False
        assert_every_finding_is_placed(body["sections"])
        assert all({"name", "title", "problems", "hint", "summary", "rows"} == set(s) for s in body["sections"])
    for refused in ("mkt", "rep"):
        token = store.create_token(refused, "ci")
        assert_canonical_error(client.get("/api/v1/checks", headers={"Authorization": f"Bearer {token}"}), 403)
    project.close()
