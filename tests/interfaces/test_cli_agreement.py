"""``revalign agreement``: versions, propose, and every signatory approves — then ``versions`` says it counts and
the SLA numbers of a project computed under the signed set equal the library's run on both versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revalign.analytics.sla import breach_ledger, sla_items
from revalign.interfaces.cli import EXIT_OK, EXIT_USAGE, main
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.interfaces.server.state.agreement_signoff import approved_versions, propose_version
from revalign.interfaces.server.state.approvals import Approvals
from revalign.project import init_project, open_project
from revalign.simulate import simulate
from tests.interfaces.server.agreement_versions import V1, V2, book, write_versions

pytestmark = pytest.mark.slow

PASSWORD = "leader-pass-1"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("agreement-cli")
    init_project(folder, name="agreement cli")
    write_versions(folder)
    project = open_project(folder)
    simulate(scale="xs", seed=3).write(project.engine)
    project.close()
    store = StateStore(default_state_url(folder))
    store.migrate()
    for user, role in (("mkt", "marketing"), ("sls", "sales"), ("ops", "revops"), ("boss", "leadership")):
        store.add_user(user, PASSWORD, role)
    store.close()
    return folder


def run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["agreement", *args, "--project", str(folder)])
    out = capsys.readouterr()
    return code, out.out + out.err


def approved(folder: Path) -> frozenset[tuple[str, int]]:
    project = open_project(folder)
    store = StateStore(default_state_url(folder))
    try:
        return approved_versions(project.agreements(), Approvals(store))
    finally:
        store.close()
        project.close()


def test_propose_and_every_signatory_approves(folder: Path, capsys) -> None:
    code, out = run(capsys, folder, "versions", "--json")
    rows = json.loads(out)
    assert code == EXIT_OK and [(r["version"], r["status"], r["counted"]) for r in rows] == [
        (1, "baseline", True),
        (2, "draft", False),
    ]
    code, out = run(capsys, folder, "propose", "--version", "7")
    assert code == EXIT_USAGE and "no version 7" in out
    code, out = run(capsys, folder, "propose", "--by", "ops", "--note", "tighter follow-up", "--json")
    proposal = json.loads(out)  # the newest version by default
    assert code == EXIT_OK and proposal["version"] == "2" and proposal["missing"] == ["marketing", "sales", "revops"]
    approval = str(proposal["id"])
    code, out = run(capsys, folder, "approve", approval, "--user", "boss", "--password", PASSWORD)
    assert code != EXIT_OK and "cannot sign" in out
    for user, waiting in (("mkt", "sales, revops"), ("sls", "revops")):
        code, out = run(capsys, folder, "approve", approval, "--user", user, "--password", PASSWORD)
        assert code == EXIT_OK and f"waiting for {waiting}" in out
        assert approved(folder) == {("marketing_sales", 1)}
    code, out = run(capsys, folder, "approve", approval, "--user", "ops", "--password", PASSWORD)
    assert code == EXIT_OK and "it counts" in out
    assert approved(folder) == {("marketing_sales", 1), ("marketing_sales", 2)}
    code, out = run(capsys, folder, "versions", "--json")
    v2 = json.loads(out)[1]
    assert v2["status"] == "signed" and v2["counted"] and v2["signed"].startswith("marketing: mkt (")


def test_the_numbers_follow_the_signed_set(folder: Path, capsys) -> None:
    project = open_project(folder)
    try:
        under_signed = project.sla_breaches(approved=approved(folder))
        under_v1 = project.sla_breaches(approved={("marketing_sales", 1)})
        direct = breach_ledger(sla_items(project.tables, book(V1, V2)))
        direct_v1 = breach_ledger(sla_items(project.tables, book(V1)))
    finally:
        project.close()
    assert under_signed["entity_id"].tolist() == direct["entity_id"].tolist()
    assert under_v1["entity_id"].tolist() == direct_v1["entity_id"].tolist()
    assert len(direct) > len(direct_v1)


def test_revalign_sla_counts_only_signed_versions_like_the_page(tmp_path: Path, capsys) -> None:
    """A proposed v2 shows in `revalign agreement versions` but `revalign sla breaches` keeps v1's ledger until
    every signatory signed (the independent side: the library run on the version texts alone)."""
    init_project(tmp_path, name="sla cli sign-off")
    write_versions(tmp_path)
    project = open_project(tmp_path)
    simulate(scale="xs", seed=3).write(project.engine)
    only_v1 = breach_ledger(sla_items(project.tables, book(V1)))
    both = breach_ledger(sla_items(project.tables, book(V1, V2)))
    project.close()
    assert len(both) > len(only_v1)

    def ledger() -> list[str]:
        capsys.readouterr()
        assert main(["sla", "breaches", "--project", str(tmp_path), "--json"]) == EXIT_OK
        return [r["entity_id"] for r in json.loads(capsys.readouterr().out)]

    assert ledger() == only_v1["entity_id"].tolist()  # v2 is a draft: nobody proposed it
    store = StateStore(default_state_url(tmp_path))
    store.migrate()
    users = {}
    for user, role in (("mkt", "marketing"), ("sls", "sales"), ("ops", "revops")):
        store.add_user(user, PASSWORD, role)
        users[user] = store.get_user(user)
    approvals = Approvals(store)
    spec = book(V1, V2).versions[-1]
    rec = propose_version(approvals, spec, by="ops")
    for user in ("mkt", "sls"):
        approvals.sign(rec.id, users[user], spec.content_hash())
        assert ledger() == only_v1["entity_id"].tolist()  # proposed, not yet signed by everyone
    approvals.sign(rec.id, users["ops"], spec.content_hash())
    store.close()
    assert ledger() == both["entity_id"].tolist()


def test_mqls_per_month_and_the_leads_of_a_group_equal_the_library(folder: Path, capsys) -> None:
    """The simulated leads' own scores written to ``scores`` under the example agreement's model
    (default_lead_score v1, a day after each lead was created): the command prints what the library counts."""
    import pandas as pd

    from revalign.analytics.mqls import agreed_mql_counts, mql_comparison
    from revalign.model.tables import canonical_table

    project = open_project(folder)
    try:
        leads = project.table("leads").select("lead_id", "score", "created_at").to_pandas().dropna()
        scores = pd.DataFrame(
            {
                "lead_id": leads["lead_id"],
                "model": "default_lead_score",
                "version": 1,
                "score": leads["score"].astype(float),
                "band": "A",
                "is_mql": leads["score"] >= 60,
                "scored_at": pd.to_datetime(leads["created_at"]) + pd.Timedelta(days=1),
            }
        )
        project.engine.write("scores", scores, schema=canonical_table("scores").schema)
        comparison = mql_comparison(project.tables, book(V1, V2))
    finally:
        project.close()
    expected = agreed_mql_counts(comparison, "quarter")
    assert expected["agreed_mqls"].sum() == (scores["score"] >= 60).sum() > 0
    code, out = run(capsys, folder, "mqls", "--grain", "quarter", "--json")
    assert code == EXIT_OK, out
    rows = json.loads(out)
    assert [(r["period"], r["agreed_mqls"], r["crm_mqls"], r["crm_only"]) for r in rows] == list(
        expected[["period", "agreed_mqls", "crm_mqls", "crm_only"]].itertuples(index=False, name=None)
    )
    code, out = run(capsys, folder, "mqls", "--leads", "crm_only", "--json")
    assert code == EXIT_OK, out
    below = comparison[comparison["status"] == "crm_only"]
    assert sorted(r["lead_id"] for r in json.loads(out)) == sorted(below["lead_id"])
    assert all(r["best_score"] is None or r["best_score"] < 60 for r in json.loads(out))
    code, out = run(capsys, folder, "mqls", "--leads", "nobody")
    assert code == EXIT_USAGE and "both, agreed_only, crm_only" in out
