"""The simulator's SLA loaded as the agreement: the breach ledger is its ``sla_breach`` labels, lead for lead.

The shipped example agreement's ``mql_followup`` is the simulator's SLA (24 continuous hours from the MQL to
the first sales touch). The expectations come from the simulator's ground truth (labels and the per-lead truth
table: MQL time, true follow-up delay), never from the SLA code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revalign.analytics.sla import breach_ledger, compliance, sla_items
from revalign.analytics.sla.volume import volume_slas
from revalign.definitions.agreements.loader import EXAMPLE_FILE, example_agreement_text, parse_agreements
from revalign.engine import connect
from revalign.project import Project
from revalign.simulate import simulate

V2_FROM = pd.Timestamp("2025-07-01")


@pytest.fixture(scope="module")
def company():
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="module")
def project(company, tmp_path_factory):
    engine = connect("duckdb://:memory:")
    company.write(engine)
    proj = Project(tmp_path_factory.mktemp("sla-sim"), engine=engine)
    yield proj
    proj.close()


@pytest.fixture(scope="module")
def end(company) -> pd.Timestamp:
    return pd.Timestamp(company.truth.to_dict()["end"])


@pytest.fixture(scope="module")
def items(project, end) -> pd.DataFrame:
    book = parse_agreements((example_agreement_text(), EXAMPLE_FILE))
    return sla_items(project.tables, book, slas=["mql_followup"], as_of=end)


@pytest.fixture(scope="module")
def truth(company, end) -> pd.DataFrame:
    """Per MQL (one per lead in the simulator): its time, true follow-up delay, and whether that came by the end."""
    t = company.truth.leads.to_pandas()
    t = t[t["mql"]].copy()
    t["followed"] = t["conversion_at"] + pd.to_timedelta(t["followup_hours"], unit="h") <= end
    t["month"] = t["conversion_at"].dt.to_period("M").dt.start_time.dt.date
    return t


def test_the_breach_ledger_is_the_simulators_labels_lead_for_lead(company, items):
    labels = company.truth.labels.to_pandas()
    labels = labels[labels["kind"] == "sla_breach"].set_index("entity_id")
    ledger = breach_ledger(items).set_index("entity_id")
    assert len(ledger) == len(labels) == 435
    assert set(ledger.index) == set(labels.index)
    labels = labels.loc[ledger.index]
    assert (ledger["owner_id"] == labels["actor_id"]).all()  # the SDR who followed up late
    assert (ledger["done_at"] == labels["occurred_at"]).all()
    # by how much: the label's detail is the true delay in hours, to two decimals
    assert (ledger["late_hours"] + 24 - labels["detail"].astype(float)).abs().max() <= 0.005 + 1e-9
    assert (ledger["team_id"].notna()).all()


def test_compliance_per_month_is_the_ground_truth(items, truth, end):
    got = compliance(items, ("sla",), grain="month").set_index("period")
    met = truth["followed"] & (truth["followup_hours"] <= 24)
    breached = truth["followed"] & (truth["followup_hours"] > 24)
    age_h = (end - truth["conversion_at"]).dt.total_seconds() / 3600
    overdue = ~truth["followed"] & (age_h > 24)
    expect = pd.DataFrame({"month": truth["month"], "met": met, "breached": breached, "overdue": overdue})
    expect = expect.groupby("month").sum()
    expect["started"] = truth.groupby("month").size()
    expect["rate"] = expect["met"] / (expect["met"] + expect["breached"] + expect["overdue"])
    assert got["started"].to_dict() == expect["started"].to_dict()
    assert got["met"].to_dict() == expect["met"].to_dict()
    assert got["breached"].to_dict() == expect["breached"].to_dict()
    assert got["overdue"].to_dict() == expect["overdue"].to_dict()
    np.testing.assert_allclose(got["compliance_rate"], expect["rate"].loc[got.index], rtol=1e-12)


def test_the_catalog_kpi_is_the_agreement_sla_met_over_started(project, items):
    """``sla_followup_compliance`` (a catalog conversion KPI, window 1 day) and the agreement's SLA count the
    same thing: the agreement check keeps the KPI's window equal to the SLA's allowance (one threshold)."""
    kpi = project.kpi("sla_followup_compliance").grain("month").no_cache().to_pandas()
    kpi = kpi.set_index(pd.to_datetime(kpi["period_start"]).dt.date)["value"]
    c = compliance(items, ("sla",), grain="month").set_index("period")
    share = c["met"] / c["started"]
    common = share.index.intersection(kpi.index)
    assert len(common) >= 20
    np.testing.assert_allclose(kpi.loc[common].astype(float), share.loc[common], rtol=1e-12)


def test_a_new_version_changes_the_ledger_from_its_date_only(project, items, truth, end):
    v2 = example_agreement_text().replace("version: 1", "version: 2").replace("2024-01-01", "2025-07-01")
    v2 = v2.replace("within: 24 hours", "within: 12 hours")
    book = parse_agreements((example_agreement_text(), EXAMPLE_FILE), (v2, "v2.yaml"))
    two = breach_ledger(sla_items(project.tables, book, slas=["mql_followup"], as_of=end))
    one = breach_ledger(items)
    started = items.set_index("entity_id")["started_at"]
    early = lambda f: set(f.loc[started.loc[f["entity_id"]].to_numpy() < V2_FROM, "entity_id"])  # noqa: E731
    assert early(two) == early(one)  # nothing before 2025-07-01 moves
    late_truth = truth[(truth["conversion_at"] >= V2_FROM) & truth["followed"] & (truth["followup_hours"] > 12)]
    late_two = set(two["entity_id"]) - early(two)
    assert late_two == set(late_truth["lead_id"])
    assert len(late_two) > len(set(one["entity_id"]) - early(one))  # a tighter SLA breaches more
    assert set(two.loc[two["entity_id"].isin(late_two), "version"]) == {2}


def test_recomputing_later_only_adds_breaches(project, items):
    """The ledger is append-only: what was a closed breach at an earlier as_of is the same row later."""
    book = parse_agreements((example_agreement_text(), EXAMPLE_FILE))
    earlier = breach_ledger(sla_items(project.tables, book, slas=["mql_followup"], as_of="2025-06-30"))
    later = breach_ledger(items).set_index("entity_id").loc[earlier["entity_id"]].reset_index()
    assert len(earlier) > 100
    pd.testing.assert_frame_equal(earlier, later[earlier.columns])


def test_volume_slas_count_mqls_per_segment_and_month(project, company, end):
    """Oracle: MQL lifecycle events per month and the lead's segment, counted with pandas from the raw tables."""
    vol = volume_slas(
        project.catalog, project.tables, parse_agreements((example_agreement_text(), EXAMPLE_FILE)), as_of=end.date()
    )
    led = company.tables["ledger"].to_pandas()
    leads = company.tables["leads"].to_pandas().set_index("lead_id")["segment"]
    mql = led[(led["kind"] == "lifecycle") & (led["name"] == "mql")]
    counts = mql.groupby(
        [mql["occurred_at"].dt.to_period("M").dt.start_time.dt.date, mql["entity_id"].map(leads)]
    ).size()
    floors = {"smb": 20, "mid_market": 10, "enterprise": 3}
    got = vol.set_index(["period", "slice"])
    assert len(got) == len(counts) and set(got["status"]) == {"met", "breached"}
    for (month, segment), n in counts.items():
        row = got.loc[(month, segment)]
        assert row["value"] == n
        assert row["status"] == ("met" if n >= floors[segment] else "breached")
        assert row["short"] == max(floors[segment] - n, 0)
