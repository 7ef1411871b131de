"""Forecast submissions through the canonical mapping: named rules quarantine bad rows, and ``superseded_at`` is
derived from the submissions themselves (a value in the file is replaced).

Row numbers are data rows, 1-based, read off the literal CSV text below.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revalign.engine import connect
from revalign.sources import ingest, quarantined

HEADER = (
    "forecast_id,owner_id,team_id,period_start,period_grain,category,amount,submitted_at,superseded_at,recorded_at\n"
)
PEOPLE = {
    "teams.csv": "team_id,name,department\nT1,AE EMEA,sales\n",
    "users.csv": "user_id,name,role,department,team_id\nU1,Ana,ae,sales,T1\nU2,Bo,ae,sales,T1\n",
}
FORECASTS = (
    HEADER
    # 1-3: U1's draft, opening call and first update for April (the file's superseded_at of row 1 is wrong)
    + "F1,U1,T1,2025-04-01,month,commit,100000,2025-03-25 09:00:00,2030-01-01 00:00:00,2025-03-25 10:00:00\n"
    + "F2,U1,T1,2025-04-01,month,commit,90000,2025-03-31 17:00:00,,2025-03-31 18:00:00\n"
    + "F3,U1,T1,2025-04-01,month,commit,95000,2025-04-07 09:00:00,,2025-04-07 09:30:00\n"
    + "F4,U2,T1,2025-04-01,month,commit,-500,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"  # 4: negative amount
    + "F5,U2,T1,2025-04-01,month,upside,7000,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"  # 5: unknown category
    + "F6,U9,T1,2025-04-01,month,commit,7000,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"  # 6: unknown owner
    + "F7,U2,T1,2025-04-01,month,best_case,7000,2025-03-31 12:00:00,,2025-03-30 13:00:00\n"  # 7: recorded before
    + "F1,U2,T1,2025-04-01,month,pipeline,7000,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"  # 8: repeated id
    + "F9,U2,T1,2025-04-01,month,commit,7000,31/03/2025,,2025-03-31 13:00:00\n"  # 9: not a timestamp
    + "F10,U2,T1,2025-04-01,week,commit,7000,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"  # 10: unknown grain
    + "F11,,T1,2025-04-01,month,commit,7000,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"  # 11: no owner
    # 12: U2's quarter call (another series than U2's month calls: never superseded by them)
    + "F12,U2,T1,2025-04-01,quarter,commit,30000,2025-03-31 12:00:00,,2025-03-31 13:00:00\n"
)


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def db():
    engine = connect("duckdb://:memory:")
    yield engine
    engine.close()


def test_bad_forecast_rows_are_quarantined_by_named_rule(tmp_path, db):
    folder = write_folder(tmp_path / "x", {**PEOPLE, "forecasts.csv": FORECASTS})
    report = ingest(db, folder, "canonical")
    q = quarantined(db)
    q = q[q.file.str.endswith("forecasts.csv")]
    got = sorted(zip(q.row, q.column, q.rule, strict=True))
    assert got == [
        (4, "amount", "non_negative"),
        (5, "category", "enum"),
        (6, "owner_id", "foreign_key"),
        (7, "recorded_at", "order_of_dates"),
        (8, "forecast_id", "unique"),
        (9, "submitted_at", "date_format"),
        (10, "period_grain", "enum"),
        (11, "owner_id", "not_null"),
    ]
    assert set(q.loc[q.row == 4, "value"]) == {"-500"}
    stats = next(t for t in report.tables if t.table == "forecasts")
    assert (stats.rows_read, stats.rows_loaded, stats.rows_quarantined) == (12, 4, 8)
    loaded = db.execute(db.table("forecasts")).set_index("forecast_id").sort_index()
    assert list(loaded.index) == ["F1", "F12", "F2", "F3"]


def test_superseded_at_is_the_next_call_of_the_same_series(tmp_path, db):
    folder = write_folder(tmp_path / "x", {**PEOPLE, "forecasts.csv": FORECASTS})
    ingest(db, folder, "canonical")
    f = db.execute(db.table("forecasts")).set_index("forecast_id")
    # F1 → replaced by F2 (the file's 2030 value is not kept), F2 → by F3, F3 and F12 stand
    assert f.loc["F1", "superseded_at"] == pd.Timestamp("2025-03-31 17:00:00")
    assert f.loc["F2", "superseded_at"] == pd.Timestamp("2025-04-07 09:00:00")
    assert pd.isna(f.loc["F3", "superseded_at"]) and pd.isna(f.loc["F12", "superseded_at"])


def test_a_later_export_supersedes_calls_loaded_before(tmp_path, db):
    ingest(db, write_folder(tmp_path / "a", {**PEOPLE, "forecasts.csv": FORECASTS}), "canonical")
    later = HEADER + "F20,U1,T1,2025-04-01,month,commit,99000,2025-04-14 09:00:00,,2025-04-14 09:10:00\n"
    ingest(db, write_folder(tmp_path / "b", {"forecasts.csv": later}), "canonical")
    f = db.execute(db.table("forecasts")).set_index("forecast_id")
    assert f.loc["F3", "superseded_at"] == pd.Timestamp("2025-04-14 09:00:00")
    assert pd.isna(f.loc["F20", "superseded_at"])
    assert f.loc["F2", "superseded_at"] == pd.Timestamp("2025-04-07 09:00:00")  # untouched
    assert len(f) == 5


def test_simulated_forecasts_round_trip_with_the_same_supersession(tmp_path, db):
    from revalign.simulate import simulate

    company = simulate(scale="xs", seed=1)
    company.to_parquet(tmp_path / "sim")
    ingest(db, tmp_path / "sim", "canonical")
    got = db.execute(db.table("forecasts")).set_index("forecast_id").sort_index()
    want = company.tables["forecasts"].to_pandas().set_index("forecast_id").sort_index()
    assert len(got) == len(want) > 0
    pd.testing.assert_series_equal(got.superseded_at, want.superseded_at, check_dtype=False)
    pd.testing.assert_series_equal(got.amount, want.amount)


@pytest.fixture(scope="module")
def xs_company():
    from revalign.simulate import simulate

    return simulate(scale="xs", seed=2)


def test_forecast_accuracy_by_owner_and_quarter_agrees_with_pandas_on_every_engine(engine, xs_company, tmp_path):
    """The opening-call filter (a timestamp compared with a date, a null test) means the same on every engine."""
    from revalign.kpis import evaluate
    from revalign.model.tables import TABLES
    from revalign.project import Project

    for name in ("forecasts", "opportunities"):
        engine.write(name, xs_company.tables[name], schema=TABLES[name].schema)
    project = Project(tmp_path, engine=engine)
    # forecast_bias: same inputs
    got = evaluate(project.tables, project.catalog, ["forecast_accuracy"], grain="quarter", by=["owner"])

    f = xs_company.tables["forecasts"].to_pandas()
    f = f[(f.category == "commit") & (f.period_grain == "month") & (f.submitted_at < pd.to_datetime(f.period_start))]
    f = f.sort_values("submitted_at").groupby(["owner_id", "period_start"]).tail(1)
    o = xs_company.tables["opportunities"].to_pandas()
    o = o[o.is_won & (o.deal_type == "new_business")]
    quarter = lambda ts: pd.to_datetime(ts).dt.to_period("Q").dt.start_time.dt.date  # noqa: E731
    fc = f.groupby([quarter(f.period_start), f.owner_id]).amount.sum()
    act = o.groupby([quarter(o.closed_at), o.owner_id]).amount.sum()
    both = pd.concat([fc.rename("f"), act.rename("a")], axis=1).fillna(0.0)
    both = both[both.a > 0]
    expected = {"forecast_accuracy": 1 - (both.f - both.a).abs() / both.a}
    for name, want in expected.items():
        g = got[got.kpi == name].set_index(["period_start", "owner"]).value.sort_index()
        want = want.sort_index()
        assert list(g.index) == list(want.index), name
        np.testing.assert_allclose(g.to_numpy(), want.to_numpy(), rtol=1e-9, err_msg=name)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["U1", "U2"]), st.sampled_from(["commit", "best_case"]), st.integers(0, 5)),
        min_size=1,
        max_size=25,
    ),
    st.randoms(use_true_random=False),
)
def test_supersession_invariants(rows, rnd) -> None:
    """Whatever the submissions and their order: one standing call per series, each replaced call points at a
    later-or-equal submission of its own series, and shuffling the rows changes nothing."""
    from revalign.sources.supersession import with_superseded

    frame = pd.DataFrame(
        {
            "forecast_id": [f"F{i:03d}" for i in range(len(rows))],
            "owner_id": [r[0] for r in rows],
            "period_start": pd.Timestamp("2025-04-01"),
            "period_grain": "month",
            "category": [r[1] for r in rows],
            "submitted_at": [pd.Timestamp("2025-03-20") + pd.Timedelta(days=r[2]) for r in rows],
        }
    )
    out = with_superseded(frame)
    series = out.groupby(["owner_id", "category"])
    assert (series.superseded_at.apply(lambda s: s.isna().sum()) == 1).all()
    replaced = out[out.superseded_at.notna()]
    assert (replaced.superseded_at >= replaced.submitted_at).all()
    for _, row in replaced.iterrows():
        same = out[(out.owner_id == row.owner_id) & (out.category == row.category)]
        assert row.superseded_at in set(same.submitted_at)
    order = list(range(len(frame)))
    rnd.shuffle(order)
    shuffled = with_superseded(frame.iloc[order]).sort_values("forecast_id")
    pd.testing.assert_series_equal(shuffled.superseded_at, out.sort_values("forecast_id").superseded_at)


def test_as_of_a_date_between_draft_and_opening_call_the_draft_stands(tmp_path, db):
    """As known on 28 March, U1's April commit was the draft (100,000, row 1): the opening call (90,000) came on
    the 31st. Today the opening call stands. U2's month calls were all quarantined, so only U1 counts."""
    from revalign.kpis import evaluate
    from revalign.project import Project

    ingest(db, write_folder(tmp_path / "x", {**PEOPLE, "forecasts.csv": FORECASTS}), "canonical")
    project = Project(tmp_path / "p", engine=db)
    april = pd.Timestamp("2025-04-01").date()
    then = evaluate(project.tables, project.catalog, ["commit_forecast"], grain="month", as_of="2025-03-28").set_index(
        "period_start"
    )
    now = evaluate(project.tables, project.catalog, ["commit_forecast"], grain="month").set_index("period_start")
    assert then.loc[april, "value"] == 100_000
    assert now.loc[april, "value"] == 90_000
    before_any = evaluate(project.tables, project.catalog, ["commit_forecast"], grain="month", as_of="2025-03-20")
    assert before_any.empty
