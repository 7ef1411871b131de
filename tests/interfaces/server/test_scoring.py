"""``/scoring`` and ``/api/v1/scoring``: the report's numbers are the library's, and approvals follow the rules.

A marketing login signs for marketing, a sales login for sales, nobody else signs; a signature is for the content
hash shown; the version takes effect when both have signed, and the page then says so.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from revalign.definitions.scoring import DEFAULT_DIR
from revalign.interfaces.server import ServerSettings, create_app
from revalign.interfaces.server.state.approvals import Approvals
from revalign.project import Project, init_project, open_project
from revalign.simulate import simulate
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error, login


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    folder = tmp_path_factory.mktemp("scoring-server")
    init_project(folder, engine_url="duckdb://:memory:")
    (folder / "scoring").mkdir()
    shutil.copyfile(DEFAULT_DIR / "simulator.yaml", folder / "scoring" / "lead_score.yaml")
    proj = open_project(folder)
    simulate(scale="xs", seed=4).write(proj.engine)
    yield proj
    proj.close()


@pytest.fixture(scope="module")
def app(project: Project, tmp_path_factory: pytest.TempPathFactory):
    state = tmp_path_factory.mktemp("state") / "state.sqlite"
    application = create_app(project, state_url=f"sqlite:///{state}", settings=ServerSettings())
    for user, role in (("mkt", "marketing"), ("sls", "sales"), ("boss", "leadership")):
        application.state.store.add_user(user, PASSWORD, role)
    return application


def csrf_of(client: TestClient) -> str:
    match = re.search(r'id="csrf" value="([^"]+)"', client.get("/scoring").text)
    assert match
    return match.group(1)


def test_the_report_is_the_librarys_summary(app, project: Project) -> None:
    client = login(TestClient(app), "boss")
    body = client.get("/api/v1/scoring").json()
    names = [t["name"] for t in body["tables"]]
    assert body["available"] and names[:4] == ["bands", "distribution", "rejections", "rules"]
    model = project.scoring_model()
    summary = project.scoring_summary(model, dt.datetime.fromisoformat(body["meta"]["as_of"]))
    bands = {r["band"]: r for r in body["tables"][0]["rows"]}
    for row in summary.bands.to_dict("records"):
        assert (bands[row["band"]]["leads"], bands[row["band"]]["mqls"]) == (row["leads"], row["mqls"])
    assert body["meta"]["leads"] == summary.leads and "preview" in body["notices"][0]
    csv = client.get("/api/v1/scoring?format=csv&table=bands").text
    assert csv.splitlines()[0].startswith("band,leads,mqls,converted")


def test_approvals_need_both_departments_and_the_content_that_was_shown(app, project: Project) -> None:
    model = project.scoring_model()
    rec = Approvals(app.state.store).propose(
        "scoring", model.name, model.version, model.content_hash(), ("marketing", "sales"), by="ops"
    )
    mkt, sls, boss = (login(TestClient(app), u) for u in ("mkt", "sls", "boss"))
    url = f"/api/v1/scoring/approvals/{rec.id}/sign"
    good = {"content_hash": model.content_hash()}
    assert 'class="approve"' in mkt.get("/scoring").text and 'class="approve"' not in boss.get("/scoring").text
    assert_canonical_error(mkt.post(url, json=good), 403)  # no CSRF token: refused
    assert_canonical_error(mkt.post(url, json={"content_hash": "0" * 64}, headers={"X-CSRF-Token": csrf_of(mkt)}), 403)
    assert_canonical_error(boss.post(url, json=good, headers={"X-CSRF-Token": csrf_of(boss)}), 403)
    assert_canonical_error(
        mkt.post("/api/v1/scoring/approvals/999/sign", json=good, headers={"X-CSRF-Token": csrf_of(mkt)}), 404
    )
    half = mkt.post(url, json=good, headers={"X-CSRF-Token": csrf_of(mkt)}).json()
    assert (half["status"], half["missing"]) == ("proposed", ["sales"])
    page = mkt.get("/scoring").text
    assert "Approve for marketing" not in page and "marketing: mkt" in page
    done = sls.post(url, json=good, headers={"X-CSRF-Token": csrf_of(sls)}).json()
    assert done["status"] == "approved" and done["effective_at"] == done["signatures"][-1]["signed_at"]
    listed = boss.get("/api/v1/scoring/approvals").json()["approvals"]
    assert [(a["id"], a["status"]) for a in listed] == [(rec.id, "approved")]
    assert "in force since" in boss.get("/scoring").text
    # signing an approved version again is refused, not recorded twice
    assert_canonical_error(sls.post(url, json=good, headers={"X-CSRF-Token": csrf_of(sls)}), 403)
