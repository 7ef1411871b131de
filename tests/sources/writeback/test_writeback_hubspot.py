"""Write-back to the fake HubSpot portal: the dry run lists exactly the changes an independent pandas computation
expects (conftest.expected_values) and writes nothing; apply sends batches of at most 100, stores exactly the plan
and reports the record the portal refuses (a 207 multi-status); the next plan holds only that record, and once it
is written a plan is empty and an apply sends no request. Records HubSpot does not have (archived) are never
written; the command and the API show the same dry run."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.interfaces.server.conftest import assert_canonical_error
from tests.sources.writeback.conftest import expected_values, hubspot_project_in

from revalign.interfaces.cli import EXIT_OK, main
from revalign.interfaces.server import ServerSettings, create_app
from revalign.sources.writeback import ApplyReport, WritebackPlan

SCORE, SOURCE, CREDIT = "revalign_score", "revalign_audited_source", "revalign_marketing_credit"
OBJECT = {SCORE: "contacts", SOURCE: "deals", CREDIT: "deals"}


@pytest.fixture(scope="module")
def project(portal, company, tmp_path_factory):
    return hubspot_project_in(tmp_path_factory.mktemp("project"), portal, company)


@pytest.fixture(scope="module")
def expected(project) -> dict[str, pd.Series]:
    values = expected_values(project)
    return {SCORE: values["lead_score"], SOURCE: values["audited_source"], CREDIT: values["marketing_credit"]}


@pytest.fixture(scope="module")
def setup(portal, expected) -> dict[str, str]:
    """The portal before the first plan: a contact already holding its score (as HubSpot's text), one holding a
    stale score, and a contact and a deal of revalign's archived in HubSpot."""
    contacts = portal.objects["contacts"].records
    right, stale, archived = expected[SCORE].index[:3]
    contacts[right][SCORE] = str(int(expected[SCORE][right]))
    contacts[stale][SCORE] = str(int(expected[SCORE][stale]) + 7)
    gone = expected[CREDIT].index.intersection(expected[SOURCE].index)[0]
    stamp = pd.Timestamp.now()
    portal.archive("contacts", archived, stamp)
    portal.archive("deals", gone, stamp)
    return {"right": right, "stale": stale, "archived": archived, "gone": gone}


@pytest.fixture(scope="module")
def plan(project, setup) -> WritebackPlan:
    return project.writeback_plan("hubspot")


def test_the_dry_run_lists_exactly_the_expected_changes_and_writes_nothing(plan, expected, setup, portal) -> None:
    skipped = {setup["right"], setup["archived"], setup["gone"]}
    wanted = [
        (OBJECT[field], record_id, field, float(value) + 7.0 if record_id == setup["stale"] else None, value)
        for field, values in expected.items()
        for record_id, value in values.items()
        if record_id not in skipped
    ]
    got = [(c.sobject, c.record_id, c.field, c.old, c.new) for c in plan.changes]
    assert plan.crm == "hubspot"
    assert sorted(got, key=str) == sorted(wanted, key=str)
    assert plan.unchanged["lead_score"] == 1
    assert plan.not_in_crm == {"lead_score": 1, "audited_source": 1, "marketing_credit": 1}
    assert portal.updates == []


@pytest.fixture(scope="module")
def refused(plan) -> str:
    return next(c.record_id for c in plan.changes if c.sobject == "deals")


@pytest.fixture(scope="module")
def applied(project, plan, portal, refused) -> ApplyReport:
    portal.refuse[refused] = "Closed deals are locked"
    return project.writeback_apply(plan)


def test_apply_stores_the_plan_in_batches_of_100_and_reports_the_refused_record(applied, plan, portal, refused):
    records = plan.records()
    per_object = pd.Series([sobject for sobject, _ in records]).value_counts()
    assert applied.requests == sum(math.ceil(n / 100) for n in per_object) == len(portal.updates)
    assert max(len(u["inputs"]) for u in portal.updates) == 100
    assert applied.records_written == len(records) - 1
    [failure] = applied.failures
    assert (failure.sobject, failure.record_id) == ("deals", refused)
    assert failure.message == "VALIDATION_ERROR: Closed deals are locked"
    for change in plan.changes:
        held = portal.objects[change.sobject].records[change.record_id][change.field]
        want = change.old if change.record_id == refused else change.new
        assert (None if held is None else type(want)(held)) == want, change  # HubSpot holds text


def test_the_next_plan_holds_only_the_refused_record_then_nothing(applied, project, portal, refused) -> None:
    again = project.writeback_plan("hubspot")
    assert {c.record_id for c in again.changes} == {refused}
    portal.refuse.clear()
    assert project.writeback_apply(again).records_written == 1
    sent = len(portal.updates)
    settled = project.writeback_plan("hubspot")
    assert settled.empty
    report = project.writeback_apply(settled)
    assert (report.requests, report.records_written, len(portal.updates)) == (0, 0, sent)


def test_a_missing_property_stops_the_plan_naming_it(applied, project, portal, capsys) -> None:
    kind = portal.objects["deals"].types.pop(CREDIT)
    sent = len(portal.updates)
    try:
        assert main(["writeback", "hubspot", "-p", str(project.folder), "--apply"]) == 4
    finally:
        portal.objects["deals"].types[CREDIT] = kind
    captured = capsys.readouterr()
    assert f"HubSpot deals have no property {CREDIT}" in captured.out + captured.err
    assert len(portal.updates) == sent


def test_the_command_and_the_api_show_the_dry_run_and_apply_writes_it(applied, project, portal, expected, capsys):
    lead, deal = expected[SCORE].index[5], expected[CREDIT].index[-1]
    portal.objects["contacts"].records[lead][SCORE] = "1"
    portal.objects["deals"].records[deal][CREDIT] = "12.5"
    sent = len(portal.updates)
    args = ["writeback", "hubspot", "-p", str(project.folder)]
    capsys.readouterr()
    assert main(args) == EXIT_OK
    out = capsys.readouterr().out
    assert "2 changes to HubSpot" in out and lead in out and deal in out and "Dry run" in out
    app = create_app(project, state_url="sqlite://", settings=ServerSettings())
    for username, role in (("ops", "revops"), ("mkt", "marketing")):
        app.state.store.add_user(username, "password-123", role)
    client = TestClient(app)
    url = "/api/v1/writeback/hubspot"
    response = client.get(url, headers={"Authorization": f"Bearer {app.state.store.create_token('ops', 'ci')}"})
    assert response.status_code == 200, response.text
    assert response.json()["crm"] == "hubspot"
    by_id = {c["record_id"]: c for c in response.json()["changes"]}
    credit, score = float(expected[CREDIT][deal]), float(expected[SCORE][lead])
    assert (by_id[deal]["old"], by_id[deal]["new"], by_id[deal]["old_text"]) == (12.5, credit, "12.5%")
    assert (by_id[lead]["old"], by_id[lead]["new"]) == (1.0, score) and set(by_id) == {lead, deal}
    refused = client.get(url, headers={"Authorization": f"Bearer {app.state.store.create_token('mkt', 'ci')}"})
    assert_canonical_error(refused, 403)
    assert len(portal.updates) == sent  # the dry runs wrote nothing
    assert main([*args, "--apply", "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert sorted((c["record_id"], c["old"], c["new"]) for c in report["plan"]["changes"]) == sorted(
        [(lead, 1.0, score), (deal, 12.5, credit)]
    )
    assert report["applied"] == {"requests": 2, "records_written": 2, "failures": []}  # one per object
    [sent_deal] = portal.updates[-1]["inputs"]
    assert sent_deal["id"] == deal and float(sent_deal["properties"][CREDIT]) == credit  # sent as HubSpot's text
