"""Write-back to the fake org: the dry run lists exactly the changes an independent pandas computation expects
(scores from the ``scores`` table, sources as audited, the linear model's marketing share counted by hand), and
writes nothing; apply stores exactly the plan, reports the record the org refuses and writes the rest; the next
plan holds only that record, and once it is written a plan is empty and an apply sends no request."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from tests.interfaces.server.conftest import assert_canonical_error
from tests.sources.writeback.conftest import NOT_IN_PROJECT_LEAD, expected_values, project_in

from revalign.display.units import format_value
from revalign.interfaces.cli import EXIT_OK, main
from revalign.interfaces.server import ServerSettings, create_app
from revalign.sources.writeback import ApplyReport, WritebackPlan

SCORE, SOURCE, CREDIT = "Revalign_Score__c", "Revalign_Audited_Source__c", "Revalign_Marketing_Credit__c"


@pytest.fixture(scope="module")
def project(org, company, tmp_path_factory):
    return project_in(tmp_path_factory.mktemp("project"), org, company)


@pytest.fixture(scope="module")
def expected(project) -> dict[str, pd.Series]:
    """record id → value, per field, computed apart from the write-back code (conftest.expected_values)."""
    values = expected_values(project)
    return {SCORE: values["lead_score"], SOURCE: values["audited_source"], CREDIT: values["marketing_credit"]}


@pytest.fixture(scope="module")
def setup(org, project, expected) -> dict[str, str]:
    """The org before the first plan: a lead already holding its score, one holding a stale score, a lead
    revalign does not have, and an opportunity of revalign's that the org does not have."""
    leads = org.fake.objects["Lead"].frame
    right, stale = expected[SCORE].index[:2]
    leads.loc[leads["Id"] == right, SCORE] = float(expected[SCORE][right])
    leads.loc[leads["Id"] == stale, SCORE] = float(expected[SCORE][stale]) + 7.0
    extra = leads.iloc[[0]].assign(Id=NOT_IN_PROJECT_LEAD, IsDeleted=False)
    org.fake.objects["Lead"].frame = pd.concat([leads, extra], ignore_index=True)
    gone = expected[CREDIT].index.intersection(expected[SOURCE].index)[0]
    opps = org.fake.objects["Opportunity"].frame
    org.fake.objects["Opportunity"].frame = opps[opps["Id"] != gone].reset_index(drop=True)
    return {"right": right, "stale": stale, "gone": gone}


@pytest.fixture(scope="module")
def plan(project, setup) -> WritebackPlan:
    return project.writeback_plan()


def test_the_dry_run_lists_exactly_the_expected_changes_and_writes_nothing(plan, expected, setup, org) -> None:
    wanted = []
    for field, values in expected.items():
        sobject = "Lead" if field == SCORE else "Opportunity"
        for record_id, value in values.items():
            if record_id == setup["right"] or record_id == setup["gone"]:
                continue
            old = float(values[record_id]) + 7.0 if record_id == setup["stale"] else None
            wanted.append((sobject, record_id, field, old, value))
    got = [(c.sobject, c.record_id, c.field, c.old, c.new) for c in plan.changes]
    assert sorted(got, key=str) == sorted(wanted, key=str)
    assert plan.unchanged["lead_score"] == 1
    assert plan.not_in_crm == {"lead_score": 0, "audited_source": 1, "marketing_credit": 1}
    assert NOT_IN_PROJECT_LEAD not in {c.record_id for c in plan.changes}
    assert org.fake.updates == []


def test_the_shares_are_percentages_and_sources_are_channels(plan) -> None:
    frame = plan.to_frame()
    shares = frame.loc[frame["field"] == CREDIT, "new"].astype(float)
    assert shares.between(0, 100).all() and 0 < shares.mean() < 100
    assert set(frame.loc[frame["field"] == SOURCE, "new"]) <= {
        "organic_search", "paid_search", "paid_social", "email", "events", "webinar", "content",
        "partner_referral", "direct", "outbound_sales", "other", "unknown",
    }  # fmt: skip


@pytest.fixture(scope="module")
def refused(plan) -> str:
    return next(c.record_id for c in plan.changes if c.sobject == "Opportunity")


@pytest.fixture(scope="module")
def applied(project, plan, org, refused) -> ApplyReport:
    org.fake.refuse[refused] = "Closed deals are locked"
    return project.writeback_apply(plan)


def test_apply_stores_the_plan_and_reports_the_refused_record(applied, plan, org, refused) -> None:
    records = plan.records()
    per_object = pd.Series([sobject for sobject, _ in records]).value_counts()
    assert applied.requests == sum(math.ceil(n / 150) for n in per_object)  # batch_size 150 in revalign.yaml
    assert len(org.fake.updates) == applied.requests
    assert applied.records_written == len(records) - 1
    [failure] = applied.failures
    assert (failure.sobject, failure.record_id) == ("Opportunity", refused)
    assert "FIELD_CUSTOM_VALIDATION_EXCEPTION: Closed deals are locked" in failure.message
    stored = {name: sobj.frame.set_index("Id") for name, sobj in org.fake.objects.items()}
    for change in plan.changes:
        held = stored[change.sobject].at[change.record_id, change.field]
        assert held == (change.old if change.record_id == refused else change.new), change


def test_the_next_plan_holds_only_the_refused_record_then_nothing(applied, project, org, refused) -> None:
    again = project.writeback_plan()
    assert {c.record_id for c in again.changes} == {refused}
    org.fake.refuse.clear()
    assert project.writeback_apply(again).records_written == 1
    sent = len(org.fake.updates)
    settled = project.writeback_plan()
    assert settled.empty
    report = project.writeback_apply(settled)
    assert (report.requests, report.records_written, len(org.fake.updates)) == (0, 0, sent)


def test_the_command_and_the_api_show_the_dry_run_and_apply_writes_it(applied, project, org, expected, capsys):
    lead, deal = expected[SCORE].index[5], expected[CREDIT].index[-1]
    leads, opps = org.fake.objects["Lead"].frame, org.fake.objects["Opportunity"].frame
    leads.loc[leads["Id"] == lead, SCORE] = 1.0
    opps.loc[opps["Id"] == deal, CREDIT] = 12.5
    sent = len(org.fake.updates)
    args = ["writeback", "salesforce", "-p", str(project.folder)]
    assert main(args) == EXIT_OK
    out = capsys.readouterr().out
    assert "2 changes to Salesforce" in out and lead in out and deal in out and "Dry run" in out
    app = create_app(project, state_url="sqlite://", settings=ServerSettings())
    for username, role in (("ops", "revops"), ("mkt", "marketing")):
        app.state.store.add_user(username, "password-123", role)
    client = TestClient(app)
    url = "/api/v1/writeback/salesforce"
    response = client.get(url, headers={"Authorization": f"Bearer {app.state.store.create_token('ops', 'ci')}"})
    assert response.status_code == 200, response.text
    by_id = {c["record_id"]: c for c in response.json()["changes"]}
    credit, score = float(expected[CREDIT][deal]), float(expected[SCORE][lead])
    assert (by_id[deal]["old"], by_id[deal]["new"], by_id[deal]["old_text"]) == (12.5, credit, "12.5%")
    assert by_id[deal]["new_text"] == format_value(credit, "percent_x100") and set(by_id) == {lead, deal}
    assert (by_id[lead]["old"], by_id[lead]["new"]) == (1.0, score)
    refused = client.get(url, headers={"Authorization": f"Bearer {app.state.store.create_token('mkt', 'ci')}"})
    assert_canonical_error(refused, 403)
    assert len(org.fake.updates) == sent  # the dry runs wrote nothing
    assert main([*args, "--apply", "--json"]) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert sorted((c["record_id"], c["old"], c["new"]) for c in report["plan"]["changes"]) == sorted(
        [(lead, 1.0, score), (deal, 12.5, credit)]
    )
    assert report["applied"] == {"requests": 2, "records_written": 2, "failures": []}  # one per object
