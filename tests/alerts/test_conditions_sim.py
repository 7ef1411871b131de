"""The condition kinds on the simulated company (scale xs, seed 0), each against numbers computed independently
with pandas from the raw tables; the driver each alert names; the weekly digest, printed and emailed through a
real SMTP server on loopback.

Targets are written from the pandas numbers so the expected miss is exact: new revenue's 2025-Q4 target is twice
its actual (a 50 % miss); new leads' 2025-Q4 target is 1.5 × the run-rate forecast as of 2025-11-15 (a 1/3 miss).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from revalign.alerts import checked_alert_rules, evaluate_alerts
from revalign.alerts.conditions import CONDITIONS
from revalign.alerts.delivery import send_email
from revalign.alerts.digest import weekly_digest
from revalign.alerts.drivers import pick_driver
from revalign.analytics.pace import forecast_period
from revalign.display import format_value
from revalign.engine import connect
from revalign.interfaces.cli import app as cli
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.project import Project
from revalign.settings import SmtpSettings
from revalign.simulate import simulate
from tests.alerts.receivers import smtp_server

pytestmark = pytest.mark.slow

Q4 = ("2025-10-01", "2026-01-01")
AS_OF = dt.date(2025, 11, 15)
NOW = dt.datetime(2026, 1, 5, 8, 0)


def revenue_q4(opps: pd.DataFrame) -> float:
    """New revenue: closed-won new-business amount by close date, 2025-Q4."""
    closed = pd.to_datetime(opps["closed_at"])
    won = opps["is_won"].fillna(False).astype(bool) & (opps["deal_type"] == "new_business")
    return float(opps.loc[won & (closed >= Q4[0]) & (closed < Q4[1]), "amount"].sum())


def leads_through(leads: pd.DataFrame, day: dt.date) -> int:
    created = pd.to_datetime(leads["created_at"])
    return int(((created >= Q4[0]) & (created < pd.Timestamp(day) + pd.Timedelta(days=1))).sum())


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sim-alerts")
    engine = connect(f"duckdb:///{folder / 'revalign.duckdb'}")
    simulate(scale="xs", seed=0).write(engine)
    opps, leads = engine.execute(engine.table("opportunities")), engine.execute(engine.table("leads"))
    revenue, so_far = revenue_q4(opps), leads_through(leads, AS_OF)
    forecast = so_far * 92 / 46  # 2025-Q4 has 92 days; 1 October to 15 November is 46
    targets = {"new_revenue": {"2025-Q4": 2 * revenue}, "new_leads": {"2025-Q4": 1.5 * forecast}}
    rules = {
        "revenue": {
            "condition": "kpi_off_target",
            "kpi": "new_revenue",
            "period": "2025-Q4",
            "severity": "critical",
            "audience": {"roles": ["marketing", "leadership"]},
            "channels": ["inbox"],
        },
        "leads_pace": {
            "condition": "kpi_forecast_miss",
            "kpi": "new_leads",
            "period": "2025-Q4",
            "params": {"as_of": AS_OF.isoformat()},
            "audience": {"teams": ["marketing"]},
            "channels": ["inbox"],
        },
        "misaligned": {
            "condition": "alignment_finding",
            "period": "2025-Q4",
            "audience": {"roles": ["revops"]},
            "channels": ["inbox"],
        },
    }
    (folder / "revalign.yaml").write_text(yaml.safe_dump({"targets": targets}), encoding="utf-8")
    (folder / "alerts.yaml").write_text(yaml.safe_dump({"alerts": rules}), encoding="utf-8")
    project = Project(folder, engine=engine)
    store = StateStore(f"sqlite:///{folder / 'state.sqlite'}")
    store.migrate()
    store.add_user("mia", "password-123", "marketing")
    yield project, AlertStore(store), {"revenue": revenue, "so_far": so_far, "forecast": forecast}
    store.close()
    engine.close()


@pytest.fixture(scope="module")
def evaluation(sim):
    project, state, _ = sim
    rules, issues = checked_alert_rules(project)
    assert not issues and sorted(rules) == ["leads_pace", "misaligned", "revenue"]
    return evaluate_alerts(project, rules, state, lambda alert: alert, now=NOW)


def firings(evaluation, rule: str):
    return [a.firing for a in evaluation.alerts if a.firing.rule == rule]


def test_off_target_fires_with_the_pandas_numbers_and_names_the_largest_driver(sim, evaluation):
    project, _, truth = sim
    (f,) = firings(evaluation, "revenue")
    assert f.facts["actual"] == pytest.approx(truth["revenue"], rel=1e-12)
    assert f.facts["target"] == pytest.approx(2 * truth["revenue"]) and f.facts["shortfall"] == pytest.approx(0.5)
    assert f.state == "red" and f.key == "revenue|new_revenue|2025-Q4"
    assert format_value(truth["revenue"], "currency") in f.message
    # the driver: the tree's leaf (not the residual) with the largest absolute contribution, 2025-Q3 → 2025-Q4
    dec = project.decompose(end="2025-Q4")
    leaves = [r for r in dec.leaf_rows() if r.kind != "residual"]
    largest = max(leaves, key=lambda r: abs(r.contribution))
    assert pick_driver(dec, "new_revenue") == largest
    pts = f"{largest.contribution_pct:+.1f}".replace("-", "−")
    assert f.driver == f"{largest.label}, {largest.department}: {pts} pts of {dec.label}, 2025-Q3 → 2025-Q4"
    assert "/records?kpi=new_revenue&start=2025-10-01&end=2025-12-31" in [link.path for link in f.links]


def test_forecast_miss_is_the_run_rate_of_the_days_so_far(sim, evaluation):
    project, _, truth = sim
    fc = forecast_period(project.tables, project.catalog, "new_leads", "2025-Q4", as_of=AS_OF)
    assert (fc.actual, fc.elapsed_days, fc.period_days) == (truth["so_far"], 46, 92)
    assert fc.forecast == pytest.approx(truth["forecast"])
    (f,) = firings(evaluation, "leads_pace")
    assert f.facts["forecast"] == pytest.approx(truth["forecast"]) and f.state == "red"
    assert f"after 46 of 92 days (data to {AS_OF})" in f.message


def test_alignment_findings_fire_one_alert_each(sim, evaluation):
    project, _, _ = sim
    found = project.alignment(period="2025-Q4")
    fired = firings(evaluation, "misaligned")
    assert found.findings  # the simulated company has drivers improving while their parents worsen
    assert sorted(f.subject for f in fired) == sorted(f"{x.kind}:{'+'.join(x.kpis)}" for x in found.findings)
    assert all(len(f.links) == len(f.facts["kpis"]) for f in fired)


def test_every_condition_kind_is_documented():
    """alerts.yaml accepts exactly the kinds of CONDITIONS; each has its row in docs/alerts.md."""
    docs = (Path(__file__).parents[2] / "docs" / "alerts.md").read_text(encoding="utf-8")
    assert {"kpi_off_target", "sla_breached", "audit_finding"} <= set(CONDITIONS)
    for kind in CONDITIONS:
        assert f"| `{kind}` |" in docs, kind


def test_weekly_digest_shows_the_shared_scorecard_and_the_weeks_alerts(sim, evaluation):
    project, state, truth = sim
    digest = weekly_digest(project, state, "marketing", now=NOW + dt.timedelta(days=1))  # the evaluation sent at NOW
    revenue = format_value(truth["revenue"], "currency")
    target = format_value(2 * truth["revenue"], "currency")
    text, html = digest.text(), digest.html()
    label = project.catalog.get("new_revenue").label  # "New revenue (closed-won)"
    star = next(line for line in text.splitlines() if label in line)
    assert revenue in star and target in star and "off target" in star.lower()
    assert f'<td>{label}</td><td align="right">{revenue}</td><td align="right">{target}</td>' in html
    titles = sorted(a["title"] for a in digest.alerts)  # the rules addressed to marketing, not the revops one
    assert titles == ["New leads forecast to miss its 2025-Q4 target", f"{label} off target in 2025-Q4"]
    assert all(t in text and t in html for t in titles)

    with smtp_server() as (mailbox, port):
        smtp = SmtpSettings(host="127.0.0.1", port=port, sender="revalign@example.com")
        send_email(smtp, digest.email(sender=smtp.sender, to=["cmo@example.com"]))
        ((to, message),) = mailbox.received
    assert to == ["cmo@example.com"] and message["Subject"] == "[revalign] Weekly digest for marketing: 2025-Q4"
    assert revenue in message.get_body(("plain",)).get_content()


def test_cli_prints_the_digest_and_checks_the_rules(sim):
    project, _, truth = sim
    folder = str(project.folder)
    state_url = f"sqlite:///{project.folder / 'state.sqlite'}"
    printed = CliRunner().invoke(
        cli, ["alerts", "digest", "--role", "marketing", "-p", folder, "--state-url", state_url]
    )
    assert printed.exit_code == 0, printed.output
    assert format_value(truth["revenue"], "currency") in printed.output
    checked = CliRunner().invoke(cli, ["alerts", "check", "-p", folder, "--json"])
    assert checked.exit_code == 0 and json.loads(checked.output)["rules"] == ["leads_pace", "misaligned", "revenue"]
