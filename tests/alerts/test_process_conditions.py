"""The process conditions (SLA breaches, SLAs at risk, audit findings) on the simulated company, each against the
simulator's labels or a plain pandas grouping of the library's rows."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.alerts.process import audit_finding, sla_at_risk, sla_breached
from revalign.definitions.alerts import AlertRule
from revalign.engine import connect
from revalign.project import Project
from revalign.simulate import simulate


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim-process-alerts")
    engine = connect(f"duckdb:///{folder / 'revalign.duckdb'}")
    company = simulate(scale="xs", seed=0)
    company.write(engine)
    project = Project(folder, engine=engine)
    yield project, company.truth.labels.to_pandas()
    project.close()


def rule(condition: str, **params) -> AlertRule:
    return AlertRule(name=f"watch-{condition}", condition=condition, params=params)


def test_sla_breaches_fire_once_per_owner_and_month_with_the_simulators_counts(sim):
    project, labels = sim
    firings = sla_breached(project, rule("sla_breached", sla="mql_followup", since="2000-01-01"))
    truth = labels[labels["kind"] == "sla_breach"]
    expected = truth.groupby([truth["actor_id"], pd.to_datetime(truth["occurred_at"]).dt.strftime("%Y-%m")]).size()
    got = {(f.facts["owner_id"], f.period): int(f.state) for f in firings}
    assert got == {k: int(v) for k, v in expected.items()}
    assert len({f.key for f in firings}) == len(firings)  # one condition, one key: de-duplication works on it
    latest = sla_breached(project, rule("sla_breached", sla="mql_followup"))  # default: the latest month only
    assert latest and {f.period for f in latest} == {max(p for _, p in got)}


def test_audit_findings_fire_per_kind_actor_and_month_with_the_revenue_at_stake(sim):
    project, labels = sim
    firings = audit_finding(project, rule("audit_finding", since="2000-01-01"))
    found = project.audit_findings(kinds=("lead_source_overwrite", "no_opportunity_recreate"))
    found = found.assign(month=pd.to_datetime(found["occurred_at"]).dt.strftime("%Y-%m"))
    found["actor_id"] = found["actor_id"].fillna("unknown")
    groups = found.groupby(["kind", "actor_id", "month"])
    assert {(f.facts["kind"], f.facts["actor_id"], f.period): int(f.state) for f in firings} == groups.size().to_dict()
    stake = groups.apply(lambda g: g.drop_duplicates("opportunity_id")["revenue_at_stake"].fillna(0).sum())
    assert {(f.facts["kind"], f.facts["actor_id"], f.period): f.facts["revenue_at_stake"] for f in firings} == (
        pytest.approx(stake.to_dict())
    )
    labelled = labels["kind"].isin(["lead_source_overwrite", "no_opportunity_recreate"]).sum()
    assert sum(int(f.state) for f in firings) == pytest.approx(labelled, rel=0.05)  # the detectors' recall


def test_sla_at_risk_names_each_open_clock_at_risk(sim):
    project, _ = sim
    items = project.sla_items()
    firings = sla_at_risk(project, rule("sla_at_risk"))
    assert sorted(f.subject for f in firings) == sorted(
        f"{r.sla}:{r.entity_id}" for r in items[items["status"] == "at_risk"].itertuples()
    )


def test_who_is_behind_the_findings_and_the_breaches_matches_the_labels(sim):
    project, labels = sim
    breaches = labels[labels["kind"] == "sla_breach"]["actor_id"].value_counts()
    sla = project.sla_concentration()
    assert sla.total == int(breaches.sum())
    assert [(who.rsplit("(", 1)[-1].rstrip(")"), n) for who, n in sla.people] == [
        (str(k), int(v)) for k, v in breaches.head(len(sla.people)).items()
    ]
    overwrites = labels[labels["kind"] == "lead_source_overwrite"]["actor_id"].value_counts()
    audit = project.audit_concentration()
    top = audit.people[0][0].rsplit("(", 1)[-1].rstrip(")")
    assert top == overwrites.index[0]  # the rep who games most, by the simulator's own labels
    assert audit.total == pytest.approx(overwrites.sum(), rel=0.05)
