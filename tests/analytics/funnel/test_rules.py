"""Each funnel rule on a hand-built fixture; expected counts are worked out by hand in the comments."""

from __future__ import annotations

import pytest

from revalign.analytics.funnel import default_funnels, funnel, parse_funnels
from revalign.errors import CatalogError, UnknownNameError
from revalign.model.access import Tables
from tests.analytics.funnel.builders import lifecycle, write

THREE = """
funnels:
  f:
    order: {order}
    recycling: {recycling}
    steps:
      - {{name: lead, event: {{name: lead}}}}
      - {{name: mql, event: {{name: mql}}{w1}}}
      - {{name: sql, event: {{name: sql}}{w2}}}
"""


def spec(order="strict", recycling="continue", w1="", w2=""):
    w1 = f", within: {w1}" if w1 else ""
    w2 = f", within: {w2}" if w2 else ""
    return parse_funnels(THREE.format(order=order, recycling=recycling, w1=w1, w2=w2))["f"]


def counts(result, **where):
    """converted per step name (summed over the rows matching ``where``)."""
    f = result.steps
    for k, v in where.items():
        f = f[f[k].astype(str) == v]
    return f.groupby("step", sort=False)["converted"].sum().to_dict()


def test_windows_per_step(duckdb_engine):
    # L1: lead 01-01 → mql 01-11 (10 d) → sql 01-31 (20 d)     : reaches all with windows 15d/15d? sql gap 20 > 15 → no
    # L2: lead 01-01 → mql 01-20 (19 d)                        : mql outside 15d → stops at lead
    # L3: lead 01-01 → mql 01-02 (1 d)  → sql 01-05 (3 d)      : reaches all
    write(
        duckdb_engine,
        ledger=lifecycle("L1", ("lead", "2024-01-01"), ("mql", "2024-01-11"), ("sql", "2024-01-31"))
        + lifecycle("L2", ("lead", "2024-01-01"), ("mql", "2024-01-20"))
        + lifecycle("L3", ("lead", "2024-01-01"), ("mql", "2024-01-02"), ("sql", "2024-01-05")),
    )
    r = funnel(Tables(duckdb_engine), spec(w1="15d", w2="15d"), grain=None)
    assert counts(r) == {"lead": 3, "mql": 2, "sql": 1}  # mql: L1, L3; sql: L3 only
    r = funnel(Tables(duckdb_engine), spec(w1="20d", w2="20d"), grain=None)
    assert counts(r) == {"lead": 3, "mql": 3, "sql": 2}  # 19 d and 20 d gaps are inside a 20-day window
    row = r.steps.set_index("step").loc["sql"]
    assert row.rate_from_previous == pytest.approx(2 / 3) and row.rate_from_first == pytest.approx(2 / 3)
    # days mql→sql among converters: L1 20, L3 3 → median 11.5 (linear interpolation)
    assert row.p50_days == pytest.approx(11.5)


def test_one_count_per_lead_with_many_opportunities(duckdb_engine):
    # L1 has three opportunities, two won: it is one lead and one win (a naive join would count 3 opps / 2 wins).
    # L2 has no opportunity. lead→opportunity 1/2, opportunity→won 1/1, never above 100 %.
    ledger = lifecycle("L1", ("lead", "2024-01-01")) + lifecycle("L2", ("lead", "2024-01-02"))
    for o, stage in (("O1", "closed_won"), ("O2", "closed_won"), ("O3", "closed_lost")):
        ledger.append(("opportunity", o, "stage", "discovery", "2024-02-01"))
        ledger.append(("opportunity", o, "stage", stage, "2024-03-01"))
    write(
        duckdb_engine,
        ledger=ledger,
        leads=[{"lead_id": "L1"}, {"lead_id": "L2"}],
        opportunities=[{"opportunity_id": o, "lead_id": "L1"} for o in ("O1", "O2", "O3")],
    )
    s = parse_funnels(
        """
funnels:
  f:
    steps:
      - {name: lead, event: {name: lead}}
      - {name: opportunity, event: {kind: stage, name: discovery}}
      - {name: won, event: {kind: stage, name: closed_won}}
"""
    )["f"]
    r = funnel(Tables(duckdb_engine), s, grain=None)
    assert counts(r) == {"lead": 2, "opportunity": 1, "won": 1}
    assert r.steps.rate_from_previous.max() <= 1.0


def test_strict_versus_any_order(duckdb_engine):
    # L1: lead 01-01, sql 01-03, mql 01-05 — sql happened before mql.
    #   strict: mql reached 01-05, then sql needs a sql event ≥ 01-05: none → stops at mql.
    #   any: mql reached at max(01-01, 01-05) = 01-05, sql at max(01-05, 01-03) = 01-05 → reaches sql (0 days).
    # L2: lead, sql 01-02, mql 01-03, sql again 01-09 → strict reaches sql at 01-09 (the first sql after mql).
    write(
        duckdb_engine,
        ledger=lifecycle("L1", ("lead", "2024-01-01"), ("sql", "2024-01-03"), ("mql", "2024-01-05"))
        + lifecycle("L2", ("lead", "2024-01-01"), ("sql", "2024-01-02"), ("mql", "2024-01-03"), ("sql", "2024-01-09")),
    )
    strict = funnel(Tables(duckdb_engine), spec(order="strict"), grain=None)
    assert counts(strict) == {"lead": 2, "mql": 2, "sql": 1}
    assert strict.steps.set_index("step").loc["sql", "p50_days"] == pytest.approx(6.0)  # L2: 01-03 → 01-09
    anyo = funnel(Tables(duckdb_engine), spec(order="any"), grain=None)
    assert counts(anyo) == {"lead": 2, "mql": 2, "sql": 2}
    # any order: L1 0 days (sql already done when mql came), L2 0 days (first sql 01-02 < mql 01-03) → median 0
    assert anyo.steps.set_index("step").loc["sql", "p50_days"] == pytest.approx(0.0)


def test_recycling_rules(duckdb_engine):
    # L1: lead 01-01, mql 01-05, recycled 02-01, mql 05-01, sql 05-10.
    # L2: lead 01-01, mql 01-03, sql 01-04 (never recycled).
    ledger = lifecycle(
        "L1",
        ("lead", "2024-01-01"),
        ("mql", "2024-01-05"),
        ("recycled", "2024-02-01"),
        ("mql", "2024-05-01"),
        ("sql", "2024-05-10"),
    ) + lifecycle("L2", ("lead", "2024-01-01"), ("mql", "2024-01-03"), ("sql", "2024-01-04"))
    write(duckdb_engine, ledger=ledger)
    # continue: L1 stays in the January cohort once, and its May SQL counts → sql 2 of 2; one row per lead,
    # so the second MQL does not make 3 MQLs.
    cont = funnel(Tables(duckdb_engine), spec(recycling="continue"), grain="month")
    assert counts(cont) == {"lead": 2, "mql": 2, "sql": 2}
    assert list(cont.steps.cohort.astype(str).unique()) == ["2024-01-01"]
    # mql→sql days: L1 from its first mql 01-05 to 05-10 = 126 d, L2 1 d → p50 63.5
    assert cont.steps.set_index("step").loc["sql", "p50_days"] == pytest.approx(63.5)
    # end: L1's journey ends at its recycle (02-01): the May SQL no longer counts → sql 1 of 2.
    end = funnel(Tables(duckdb_engine), spec(recycling="end"), grain="month")
    assert counts(end) == {"lead": 2, "mql": 2, "sql": 1}


def test_recycling_end_and_a_back_dated_step(duckdb_engine):
    # L1: lead 01-01, mql 01-05, recycled 02-01, mql 05-01, sql 05-10.
    # L3: a back-dated mql 2023-12-20 before its lead 01-02, then mql 01-10, sql 01-12: strict order skips the
    #     back-dated one (it is before the lead) and takes 01-10 — the pivot's first mql (12-20) is not the answer.
    # L4: lead 01-01, recycled 01-03, mql 01-05.
    ledger = (
        lifecycle(
            "L1",
            ("lead", "2024-01-01"),
            ("mql", "2024-01-05"),
            ("recycled", "2024-02-01"),
            ("mql", "2024-05-01"),
            ("sql", "2024-05-10"),
        )
        + lifecycle("L3", ("mql", "2023-12-20"), ("lead", "2024-01-02"), ("mql", "2024-01-10"), ("sql", "2024-01-12"))
        + lifecycle("L4", ("lead", "2024-01-01"), ("recycled", "2024-01-03"), ("mql", "2024-01-05"))
    )
    write(duckdb_engine, ledger=ledger)
    # end: L1 stops at its 01-05 mql (the May sql is after its recycle), L3 reaches sql, L4's mql is after its
    # recycle → lead 3, mql 2 (L1, L3), sql 1 (L3).
    end = funnel(Tables(duckdb_engine), spec(recycling="end"), grain=None)
    assert counts(end) == {"lead": 3, "mql": 2, "sql": 1}
    row = end.steps.set_index("step")
    assert row.loc["mql", "p50_days"] == pytest.approx(6.0)  # lead→mql: L1 4 d, L3 8 d
    assert row.loc["sql", "p50_days"] == pytest.approx(2.0)  # mql→sql: L3 01-10 → 01-12
    # continue: L1 reaches sql (05-10 after its first mql), L3 too, L4 reaches mql (01-05) → 3 / 3 / 2.
    cont = funnel(Tables(duckdb_engine), spec(recycling="continue"), grain="month")
    assert counts(cont) == {"lead": 3, "mql": 3, "sql": 2}
    assert cont.steps.set_index("step").loc["sql", "p50_days"] == pytest.approx(64.0)  # L1 126 d, L3 2 d


def test_opportunity_stages_events_mark_several_steps(duckdb_engine):
    # The default opportunity_stages funnel: a stage event marks its own step and every earlier one, and a
    # re-opened deal's last close decides.
    # O1: discovery 01-01, qualification 01-10, proposal 02-01 (skips solution), won 03-01 → all 6 steps;
    #     solution and proposal are both reached by the 02-01 proposal event.
    # O2: discovery 01-05, won 01-20, lost 02-10: the last close is the loss, the won event does not count, and
    #     closed_lost marks only discovery → discovery only.
    # O3: qualification 01-03 (no discovery event: it marks discovery), lost 01-30 → discovery, qualification.
    # O4: negotiation 01-02, then discovery 01-08 and solution 01-15: the 01-02 event marks discovery through
    #     negotiation at once → 5 steps, no win.
    ledger = [
        ("opportunity", o, "stage", name, when)
        for o, events in (
            (
                "O1",
                [("discovery", "01-01"), ("qualification", "01-10"), ("proposal", "02-01"), ("closed_won", "03-01")],
            ),
            ("O2", [("discovery", "01-05"), ("closed_won", "01-20"), ("closed_lost", "02-10")]),
            ("O3", [("qualification", "01-03"), ("closed_lost", "01-30")]),
            ("O4", [("negotiation", "01-02"), ("discovery", "01-08"), ("solution", "01-15")]),
        )
        for name, when in [(n, f"2024-{d}") for n, d in events]
    ]
    write(duckdb_engine, ledger=ledger)
    r = funnel(Tables(duckdb_engine), default_funnels()["opportunity_stages"], grain=None)
    assert counts(r) == {
        "discovery": 4,  # O1 O2 O3 O4
        "qualification": 3,  # O1 O3 O4
        "solution": 2,  # O1 O4
        "proposal": 2,
        "negotiation": 2,
        "won": 1,  # O1
    }
    row = r.steps.set_index("step")
    assert row.loc["solution", "p50_days"] == pytest.approx(11.0)  # qualification→solution: O1 22 d, O4 0 d
    assert row.loc["won", "p50_days"] == pytest.approx(0.0)  # O1's win is also its negotiation step
    assert row.loc["qualification", "rate_from_previous"] == pytest.approx(3 / 4)


def test_reopened_deal_rules(duckdb_engine):
    # O1: lost 03-01, re-opened, won 04-01.   O2: won 03-01, re-opened, lost 04-01.   O3: won 03-15.
    # last close: won = O1 (04-01), O3 → 2.   first close: won = O2, O3 → 2, but different deals (checked by time).
    ledger = []
    for o, closes in (
        ("O1", [("closed_lost", "2024-03-01"), ("closed_won", "2024-04-01")]),
        ("O2", [("closed_won", "2024-03-01"), ("closed_lost", "2024-04-01")]),
        ("O3", [("closed_won", "2024-03-15")]),
    ):
        ledger.append(("opportunity", o, "stage", "discovery", "2024-02-01"))
        ledger += [("opportunity", o, "stage", name, when) for name, when in closes]
    write(duckdb_engine, ledger=ledger)
    text = """
funnels:
  f:
    entity: opportunity
    reopened: {rule}
    steps:
      - {{name: open, event: {{kind: stage, name: discovery}}}}
      - {{name: won, event: {{kind: stage, name: closed_won}}}}
"""
    last = funnel(Tables(duckdb_engine), parse_funnels(text.format(rule="last"))["f"], grain=None)
    first = funnel(Tables(duckdb_engine), parse_funnels(text.format(rule="first"))["f"], grain=None)
    assert counts(last) == {"open": 3, "won": 2} and counts(first) == {"open": 3, "won": 2}
    # days open→won: last = O1 60 d (02-01→04-01), O3 43 d → p50 51.5; first = O2 29 d, O3 43 d → p50 36
    assert last.steps.set_index("step").loc["won", "p50_days"] == pytest.approx(51.5)
    assert first.steps.set_index("step").loc["won", "p50_days"] == pytest.approx(36.0)


def test_account_level_rolls_leads_up(duckdb_engine):
    # Account A has leads L1 (mql) and L2 (mql, sql); L3 has no account and is its own account "lead:L3".
    # Account funnel: lead 2 (A, lead:L3), mql 2, sql 1 (A).   Lead funnel: 3 / 3 / 1.
    ledger = (
        lifecycle("L1", ("lead", "2024-01-01"), ("mql", "2024-01-02"))
        + lifecycle("L2", ("lead", "2024-01-03"), ("mql", "2024-01-04"), ("sql", "2024-01-05"))
        + lifecycle("L3", ("lead", "2024-01-01"), ("mql", "2024-01-02"))
    )
    write(
        duckdb_engine,
        ledger=ledger,
        leads=[
            {"lead_id": "L1", "account_id": "A", "lead_source": "email", "created_at": "2024-01-01"},
            {"lead_id": "L2", "account_id": "A", "lead_source": "events", "created_at": "2024-01-03"},
            {"lead_id": "L3", "lead_source": "events"},
        ],
        accounts=[{"account_id": "A", "segment": "smb"}],
    )
    acc = spec().model_copy(update={"entity": "account"})
    r = funnel(Tables(duckdb_engine), acc, grain=None, by=("channel",))
    # the account's channel is its first lead's source (L1: email); L3 keeps its own (events)
    assert counts(r, channel="email") == {"lead": 1, "mql": 1, "sql": 1}
    assert counts(r, channel="events") == {"lead": 1, "mql": 1, "sql": 0}
    assert counts(funnel(Tables(duckdb_engine), spec(), grain=None)) == {"lead": 3, "mql": 3, "sql": 1}


def test_filters_on_steps_and_dimensions(duckdb_engine):
    # Step filter: only MQLs whose reason is "inbound" count. L1 inbound, L2 "list" → mql 1.
    # Dimension filter: channel=email keeps L1 only.
    write(
        duckdb_engine,
        ledger=[
            ("lead", "L1", "lifecycle", "lead", "2024-01-01"),
            ("lead", "L1", "lifecycle", "mql", "2024-01-02", "inbound"),
            ("lead", "L2", "lifecycle", "lead", "2024-01-01"),
            ("lead", "L2", "lifecycle", "mql", "2024-01-02", "list"),
        ],
        leads=[{"lead_id": "L1", "lead_source": "email"}, {"lead_id": "L2", "lead_source": "events"}],
    )
    s = parse_funnels(
        """
funnels:
  f:
    steps:
      - {name: lead, event: {name: lead}}
      - {name: mql, event: {name: mql, where: {reason: inbound}}}
"""
    )["f"]
    assert counts(funnel(Tables(duckdb_engine), s, grain=None)) == {"lead": 2, "mql": 1}
    assert counts(funnel(Tables(duckdb_engine), s, grain=None, filters={"channel": "events"})) == {"lead": 1, "mql": 0}
    with pytest.raises(UnknownNameError, match="chanel"):
        funnel(Tables(duckdb_engine), s, grain=None, by=("chanel",))


def test_cohort_and_period_modes(duckdb_engine):
    # L1: lead 01-20, mql 02-05.  L2: lead 02-10, mql 02-12.  L3: lead 02-15.
    # cohort (by lead month): Jan {lead 1, mql 1}; Feb {lead 2, mql 1}.
    # period: mql reached in Feb = 2 (L1, L2); of the leads that arrived in Feb (L2, L3), 1 became MQL.
    write(
        duckdb_engine,
        ledger=lifecycle("L1", ("lead", "2024-01-20"), ("mql", "2024-02-05"))
        + lifecycle("L2", ("lead", "2024-02-10"), ("mql", "2024-02-12"))
        + lifecycle("L3", ("lead", "2024-02-15")),
    )
    cohort = funnel(Tables(duckdb_engine), spec(), grain="month")
    assert counts(cohort, cohort="2024-01-01") == {"lead": 1, "mql": 1, "sql": 0}
    assert counts(cohort, cohort="2024-02-01") == {"lead": 2, "mql": 1, "sql": 0}
    period = funnel(Tables(duckdb_engine), spec(), mode="period", grain="month").steps.set_index(["period", "step"])
    feb = period.xs(period.index.levels[0][-1], level="period")
    assert feb.loc["mql", "reached"] == 2 and feb.loc["mql", "entered"] == 2 and feb.loc["mql", "converted"] == 1
    # start/end select cohorts: only February
    only_feb = funnel(Tables(duckdb_engine), spec(), grain="month", start="2024-02-01", end="2024-03-01")
    assert only_feb.steps.cohort.astype(str).unique().tolist() == ["2024-02-01"]
    # as_of = latest event 02-15: no cohort is mature (maturity 180 days when a step has no window)
    assert not cohort.steps.is_mature.any()
    assert funnel(Tables(duckdb_engine), spec(), grain="month", as_of="2025-01-01").steps.is_mature.all()


def test_loader_reports_every_problem_with_file_and_line():
    text = """funnels:
  good:
    steps:
      - {name: a, event: {name: lead}}
      - {name: b, event: {name: mql}}
  bad:
    order: sideways
    steps:
      - name: a
        event: {name: lead}
      - name: b
        event: {name: mql}
        within: soon
"""
    with pytest.raises(CatalogError) as info:
        parse_funnels(text, "my_funnels.yaml")
    issues = info.value.issues
    assert len(issues) == 2
    assert any(str(i).startswith("my_funnels.yaml:7: bad.order") for i in issues)
    assert any(str(i).startswith("my_funnels.yaml:13: bad.steps.1.within") and "30d" in str(i) for i in issues)


def test_unknown_funnel_name_suggests(duckdb_engine):
    with pytest.raises(UnknownNameError, match="lead_to_customer"):
        funnel(Tables(duckdb_engine), "lead_to_custmer")
