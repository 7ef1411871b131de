"""``revalign score``: propose, two leaders approve, apply once, explain, export — end to end on a small company.

Apply refuses a version nobody approved and a file edited after its approval; the export's rows are the scores
table's rows under the CRM's headers; a lead's explanation adds up to its score.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from revalign.definitions.scoring import DEFAULT_DIR
from revalign.interfaces.cli import EXIT_OK, EXIT_USAGE, main
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.project import init_project, open_project
from revalign.simulate import simulate

PASSWORD = "leader-pass-1"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("score-cli")
    init_project(folder, name="score cli")
    project = open_project(folder)
    simulate(scale="xs", seed=2).write(project.engine)
    project.close()
    (folder / "scoring").mkdir()
    shutil.copyfile(DEFAULT_DIR / "simulator.yaml", folder / "scoring" / "lead_score.yaml")
    store = StateStore(default_state_url(folder))
    store.migrate()
    for user, role in (("mkt", "marketing"), ("sls", "sales"), ("boss", "leadership")):
        store.add_user(user, PASSWORD, role)
    store.close()
    return folder


def run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["score", *args, "--project", str(folder)])
    out = capsys.readouterr()
    return code, out.out + out.err


def test_a_version_takes_effect_only_after_both_leaders_approve(folder: Path, capsys) -> None:
    code, out = run(capsys, folder, "apply", "--as-of", "2025-12-31")
    assert code == EXIT_USAGE and "no version of lead_score is approved" in out
    code, out = run(capsys, folder, "propose", "--by", "ops", "--json")
    proposal = json.loads(out)
    assert code == EXIT_OK and proposal["status"] == "proposed" and proposal["missing"] == ["marketing", "sales"]
    code, out = run(capsys, folder, "approve", str(proposal["id"]), "--user", "mkt", "--password", PASSWORD)
    assert code == EXIT_OK and "waiting for sales" in out
    code, out = run(capsys, folder, "apply", "--as-of", "2025-12-31")
    assert code == EXIT_USAGE  # one signature is not an agreement
    code, out = run(capsys, folder, "approve", str(proposal["id"]), "--user", "boss", "--password", PASSWORD)
    assert code != EXIT_OK and "cannot sign" in out
    code, out = run(capsys, folder, "approve", str(proposal["id"]), "--user", "sls", "--password", PASSWORD, "--json")
    signed = json.loads(out)
    assert signed["status"] == "approved" and [s["username"] for s in signed["signatures"]] == ["mkt", "sls"]
    assert signed["effective_at"] == signed["signatures"][-1]["signed_at"]
    code, out = run(capsys, folder, "versions", "--json")
    assert json.loads(out)[0]["status"] == "approved"


def test_apply_is_idempotent_and_the_export_is_the_scores_table(folder: Path, capsys, tmp_path: Path) -> None:
    code, out = run(capsys, folder, "apply", "--as-of", "2025-12-31", "--json")
    first = json.loads(out)
    project = open_project(folder)
    n_leads = int(project.engine.execute(project.table("leads").count()))
    assert code == EXIT_OK and first["rows_added"] == n_leads > 100
    code, out = run(capsys, folder, "apply", "--as-of", "2025-12-31", "--json")
    assert json.loads(out)["rows_added"] == 0 and json.loads(out)["already_applied"]
    scores = project.engine.execute(project.table("scores"))
    project.close()
    path = tmp_path / "hubspot.csv"
    code, _ = run(capsys, folder, "export", "--crm", "hubspot", "--out", str(path))
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert code == EXIT_OK and list(rows[0])[:3] == ["Record ID", "Lead Score", "Lead Band"]
    exported = pd.DataFrame(rows).set_index("Record ID")
    expected = scores.set_index("lead_id")
    assert len(exported) == len(expected) == n_leads
    assert (exported["Lead Score"].astype(float) == expected.loc[exported.index, "score"]).all()
    assert (exported["Lead Band"] == expected.loc[exported.index, "band"]).all()


def test_explain_adds_the_rules_up_to_the_score(folder: Path, capsys) -> None:
    project = open_project(folder)
    scores = project.engine.execute(project.table("scores"))
    project.close()
    lead = scores.sort_values("score").iloc[-1]
    code, out = run(capsys, folder, "explain", str(lead["lead_id"]), "--as-of", "2025-12-31", "--json")
    explained = json.loads(out)
    points = {r["rule"]: r["points"] for r in explained["rules"]}
    assert code == EXIT_OK and explained["score"] == lead["score"]
    assert points["segment"] + min(points["journey_touch"], 40) + points["demo_request"] == lead["score"]


def test_a_file_edited_after_approval_is_not_applied(folder: Path, capsys) -> None:
    path = folder / "scoring" / "lead_score.yaml"
    original = path.read_text()
    path.write_text(original.replace("mql_threshold: 60", "mql_threshold: 40"))
    try:
        code, out = run(capsys, folder, "apply", "--as-of", "2026-01-31")
        assert code == EXIT_USAGE and "changed since it was approved" in out
    finally:
        path.write_text(original)
