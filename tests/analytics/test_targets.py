"""Project targets: lookup precedence, the statuses they give through build_scorecard, and the file errors.

Every expected status is worked out by hand in a comment (gap = (actual − target) / |target|; green at or past
the target, amber within 10 %, red beyond, by direction).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace as NS

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from revalign.analytics.governance.scorecard import build_scorecard
from revalign.analytics.targets import (
    TargetBook,
    check_project_targets,
    project_targets,
    target_for,
    targets_in_force,
    write_targets,
)
from revalign.definitions.issues import Level
from revalign.definitions.target_files import read_targets_csv, read_targets_yaml, targets_fingerprint
from revalign.definitions.targets import TargetEntry, TargetsError, parse_number
from revalign.kpis import default_catalog
from revalign.project import Project

Q2 = dt.date(2025, 4, 1)


def settings_of(project: Project) -> dict:
    """What the target functions read from revalign.yaml, as the Project façade passes it."""
    s = project.settings
    return {"fiscal_year_start_month": s.fiscal_year_start_month, "inline": s.targets, "target_files": s.target_files}


def targets_of(project: Project) -> TargetBook:
    return project_targets(project.folder, project.catalog, **settings_of(project))


def fingerprint_of(project: Project) -> str:
    return targets_fingerprint(
        project.folder, inline=project.settings.targets, target_files=project.settings.target_files
    )


def T(period: str, value: float, **dims: str) -> NS:
    return NS(period=period, value=value, dims=dims)


def K(name, direction, *, kind, agg=None, unit="count", targets=(), department="sales", north_star=False) -> NS:
    return NS(
        name=name,
        label=name,
        type=kind,
        agg=agg,
        department=department,
        owner=None,
        unit=unit,
        direction=direction,
        timing="lagging",
        parent=None if north_star else "new_revenue",
        north_star=north_star,
        targets=list(targets),
    )


REVENUE = K(
    "new_revenue",
    "higher_is_better",
    kind="simple",
    agg="sum",
    unit="currency",
    north_star=True,
    targets=[T("2025-Q2", 1_000_000), T("2025-Q2", 400_000, segment="smb")],
)
WIN_RATE = K(
    "win_rate",
    "higher_is_better",
    kind="ratio",
    unit="percent",
    targets=[T("2025-Q2", 0.25), T("2025-Q2", 0.2, segment="enterprise")],
)
CAC = K("cac", "lower_is_better", kind="ratio", unit="currency", department="revops")


def entry(kpi: str, value: float, start: dt.date = Q2, grain: str = "quarter", **dims: str) -> TargetEntry:
    return TargetEntry(kpi, "x", grain, start, value, tuple(sorted(dims.items())), "project", f"test:{kpi}")


BOOK = TargetBook(
    [
        entry("new_revenue", 900_000),  # overrides the catalog's 1,000,000
        entry("new_revenue", 500_000, segment="smb"),  # overrides the catalog's smb 400,000
        entry("win_rate", 0.3),  # company-wide, overrides 0.25
        entry("cac", 2_000),
        entry("cac", 9_999, start=dt.date(2025, 4, 1), grain="month"),  # a month target: not for a quarter card
    ]
)


def test_lookup_precedence_project_over_catalog_and_exact_slice_first():
    # company rows: the project's target wins over the catalog's for the same KPI and period
    assert target_for(REVENUE, "quarter", Q2, book=BOOK).value == 900_000
    assert target_for(REVENUE, "quarter", Q2, book=None).value == 1_000_000
    assert target_for(REVENUE, "quarter", Q2, {"segment": "smb"}, book=BOOK).value == 500_000
    # an additive KPI never borrows the company target for a slice
    assert target_for(REVENUE, "quarter", Q2, {"segment": "enterprise"}, book=BOOK) is None
    # a level KPI (a ratio): an exact slice target (here the catalog's) beats a borrowed company target ...
    ent = target_for(WIN_RATE, "quarter", Q2, {"segment": "enterprise"}, book=BOOK)
    assert (ent.value, ent.source) == (0.2, "catalog")
    # ... and without one the slice borrows the company target, the project's before the catalog's
    smb = target_for(WIN_RATE, "quarter", Q2, {"segment": "smb"}, book=BOOK)
    assert (smb.value, smb.source) == (0.3, "project (company-wide)")
    assert target_for(WIN_RATE, "quarter", Q2, {"segment": "smb"}).value == 0.25
    # grain must match: the monthly CAC target is not a quarter target, nor the quarterly one a month target
    assert target_for(CAC, "quarter", Q2, book=BOOK).value == 2_000
    assert target_for(CAC, "month", Q2, book=BOOK).value == 9_999
    assert target_for(CAC, "month", dt.date(2025, 5, 1), book=BOOK) is None


def test_statuses_through_build_scorecard():
    values = pd.DataFrame(
        [
            {"kpi": "new_revenue", "period_start": dt.date(2025, 1, 1), "value": 800_000.0},
            {"kpi": "new_revenue", "period_start": Q2, "value": 880_000.0},
            {"kpi": "win_rate", "period_start": Q2, "value": 0.26},
            {"kpi": "cac", "period_start": Q2, "value": 2_150.0},
        ]
    )
    kpis = {"new_revenue": REVENUE, "win_rate": WIN_RATE, "cac": CAC}
    card = build_scorecard(values, kpis, period="2025-Q2", grain="quarter", targets=BOOK)
    rev = card.row("new_revenue")
    # 880,000 vs the project's 900,000: gap −2.2 % → amber (the catalog's 1,000,000 would give −12 % → red)
    assert (rev.target, rev.status, rev.target_source) == (900_000, "amber", "test:new_revenue")
    assert rev.gap == pytest.approx((880_000 - 900_000) / 900_000)
    assert build_scorecard(values, kpis, period="2025-Q2", grain="quarter").row("new_revenue").status == "red"
    win = card.row("win_rate")  # 0.26 vs 0.30: gap −13.3 % → red
    assert (win.target, win.status) == (0.3, "red")
    cac = card.row("cac")  # lower is better: 2,150 vs 2,000 → gap +7.5 % → amber; attainment 2000/2150
    assert (cac.status, cac.attainment) == ("amber", pytest.approx(2_000 / 2_150))
    assert card.department_status() == {"sales": "red", "revops": "amber"}


def test_sliced_statuses_through_build_scorecard():
    values = pd.DataFrame(
        [
            {"kpi": "new_revenue", "period_start": Q2, "segment": "smb", "value": 520_000.0},
            {"kpi": "new_revenue", "period_start": Q2, "segment": "enterprise", "value": 300_000.0},
            {"kpi": "win_rate", "period_start": Q2, "segment": "smb", "value": 0.28},
            {"kpi": "win_rate", "period_start": Q2, "segment": "enterprise", "value": 0.21},
        ]
    )
    kpis = {"new_revenue": REVENUE, "win_rate": WIN_RATE}
    card = build_scorecard(values, kpis, period="2025-Q2", grain="quarter", by=["segment"], targets=BOOK)
    # smb revenue 520,000 vs the project's smb 500,000 → green; enterprise has no slice target → no_target
    assert (card.row("new_revenue", segment="smb").status, card.row("new_revenue", segment="smb").target) == (
        "green",
        500_000,
    )
    assert card.row("new_revenue", segment="enterprise").status == "no_target"
    # smb win rate 0.28 vs the borrowed project company target 0.30 → gap −6.7 % → amber
    smb = card.row("win_rate", segment="smb")
    assert (smb.target, smb.status, smb.target_source) == (0.3, "amber", "test:win_rate (company-wide)")
    # enterprise 0.21 vs the catalog's exact enterprise 0.20 → green
    assert card.row("win_rate", segment="enterprise").status == "green"


def test_fiscal_calendar_labels_and_lookup():
    # with a February fiscal start, FY2026-Q1 is Feb–Apr 2025; "2026-Q1" names the same quarter
    cat = default_catalog()
    kpi = cat.get("new_leads")
    book = TargetBook([entry("new_leads", 500, start=dt.date(2025, 2, 1))], fiscal_year_start_month=2)
    assert target_for(kpi, "quarter", dt.date(2025, 2, 1), book=book, fiscal_year_start_month=2).value == 500
    values = pd.DataFrame([{"kpi": "new_leads", "period_start": dt.date(2025, 2, 1), "value": 520.0}])
    card = build_scorecard(
        values, {"new_leads": kpi}, period="FY2026-Q1", grain="quarter", fiscal_year_start_month=2, targets=book
    )
    assert (card.period, card.row("new_leads").status) == ("FY2026-Q1", "green")


# -------------------------------------------------------------------------------------------- files


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_long_and_wide_layouts_read_the_same_targets(tmp_path, catalog):
    long = write(
        tmp_path,
        "long.csv",
        "kpi,period,segment,value,note\n"
        'new_revenue,2025-Q1,,"1,200,000",board\n'
        "new_revenue,2025-Q1,smb,300000,\n"
        "win_rate,2025-Q1,,27%,\n"
        "\n",  # a blank line is skipped, not an error
    )
    wide = write(
        tmp_path,
        "wide.csv",
        "kpi;segment;2025-Q1;2025-Q2\nnew_revenue;;1200000;\nnew_revenue;smb;300000;\nwin_rate;;0.27;\n",
    )
    got_long, issues_long = read_targets_csv(long, catalog)
    got_wide, issues_wide = read_targets_csv(wide, catalog)
    assert issues_long == [] and issues_wide == []
    as_set = {(e.kpi, e.grain, e.start, e.dims, e.value) for e in got_long}
    assert as_set == {(e.kpi, e.grain, e.start, e.dims, e.value) for e in got_wide}
    assert ("win_rate", "quarter", dt.date(2025, 1, 1), (), 0.27) in as_set
    assert ("new_revenue", "quarter", dt.date(2025, 1, 1), (("segment", "smb"),), 300_000.0) in as_set
    assert got_long[0].note == "board" and got_long[0].where == "long.csv row 1"


def test_csv_errors_name_file_row_column_and_rule(tmp_path, catalog):
    path = write(
        tmp_path,
        "targets.csv",
        "kpi,period,segment,value\n"
        "win_rat,2025-Q1,,0.3\n"  # row 1: unknown KPI
        "win_rate,2025-Q5,,0.3\n"  # row 2: no such quarter
        "win_rate,2025-Q1,smb,130%\n"  # row 3: 1.3 is outside 0..1
        "marketing_spend,2025-Q1,smb,100\n"  # row 4: spend has no segment
        "new_leads,2025-Q1,,abc\n"  # row 5: not a number
        "new_leads,2025-Q2,,100\n"
        "new_leads,2025-q2,,120\n",  # row 7: the same KPI, period and slice again
    )
    entries, issues = read_targets_csv(path, catalog)
    got = [(i.row, i.column, i.rule, i.kpi) for i in issues]
    assert got == [
        (1, "kpi", "kpi", "win_rat"),
        (2, "period", "period", "win_rate"),
        (3, "value", "range", "win_rate"),
        (4, "segment", "dimension", "marketing_spend"),
        (5, "value", "value", "new_leads"),
        (7, "kpi", "duplicate", "new_leads"),
    ]
    assert "Did you mean 'win_rate'" in issues[0].message
    assert str(issues[0]).startswith("targets.csv row 1, column kpi [win_rat] (kpi): unknown KPI 'win_rat'.")
    assert "0 to 1" in issues[2].message and "25%" in issues[2].message
    assert "cannot be sliced by 'segment'" in issues[3].message and "campaign" in issues[3].message
    assert "the first is at targets.csv row 6" in issues[5].message
    assert [(e.kpi, e.value) for e in entries] == [("new_leads", 100.0)]  # only the valid row is kept


def test_csv_header_errors(tmp_path, catalog):
    _, issues = read_targets_csv(write(tmp_path, "a.csv", "name,period,value\nx,2025,1\n"), catalog)
    assert [(i.row, i.column, i.rule) for i in issues] == [(0, "kpi", "columns")]
    _, issues = read_targets_csv(write(tmp_path, "b.csv", "kpi,period\nnew_leads,2025\n"), catalog)
    assert [(i.column, i.rule) for i in issues] == [("value", "columns")] and "'value' is missing" in issues[0].message
    _, issues = read_targets_csv(write(tmp_path, "c.csv", "kpi,segment\nnew_leads,smb\n"), catalog)
    assert issues[0].rule == "columns" and "kpi,2025-Q1" in issues[0].message
    _, issues = read_targets_csv(write(tmp_path, "d.csv", ""), catalog)
    assert issues[0].rule == "file"


def test_yaml_errors_name_file_and_line(tmp_path, catalog):
    path = write(
        tmp_path,
        "targets.yaml",
        "targets:\n"  # 1
        "  new_revenue:\n"  # 2
        "    - {period: 2025-Q1, value: 2000000}\n"  # 3
        "    - {period: 2025-Q1, value: 500000, segment: smb}\n"  # 4
        "    - {period: 2025-Q1, value: 10, sgment: smb}\n"  # 5: no such dimension
        "  win_rate: {2025-Q1: 0.3, 2025-Q2: 1.5}\n"  # 6: 1.5 outside 0..1
        "  win_rte:\n"  # 7: unknown KPI
        "    - {period: 2025, value: 0.3}\n"  # 8
        "  cac:\n"  # 9
        "    - {period: next year, value: 100}\n",  # 10: unreadable period
    )
    entries, issues = read_targets_yaml(path, catalog)
    got = [(i.line, i.rule, i.kpi) for i in issues]
    assert got == [
        (5, "dimension", "new_revenue"),
        (6, "range", "win_rate"),
        (8, "kpi", "win_rte"),
        (10, "period", "cac"),
    ]
    assert str(issues[0]).startswith(
        "targets.yaml:5 [new_revenue] (dimension): new_revenue cannot be sliced by 'sgment'"
    )
    assert {(e.kpi, e.value, e.where) for e in entries} == {
        ("new_revenue", 2_000_000.0, "targets.yaml:3"),
        ("new_revenue", 500_000.0, "targets.yaml:4"),
        ("win_rate", 0.3, "targets.yaml:6"),
    }
    _, issues = read_targets_yaml(write(tmp_path, "bad.yaml", "new_revenue: []\n"), catalog)
    assert issues[0].rule == "shape" and "targets:" in issues[0].message


def test_number_formats():
    assert parse_number("1,200,000") == 1_200_000
    assert parse_number("1_200_000") == 1_200_000
    assert parse_number("27.5%") == pytest.approx(0.275)
    assert parse_number(3) == 3.0
    for bad in ("1.200.000", "$100", "", None, "nan", True):
        with pytest.raises(ValueError):
            parse_number(bad)


def test_project_targets_from_settings_and_files_with_override_of_the_catalog(tmp_path):
    (tmp_path / "revalign.yaml").write_text(
        "name: t\nengine: 'duckdb://:memory:'\ntargets:\n  new_leads:\n    - {period: 2026-Q1, value: 700}\n",
        encoding="utf-8",
    )
    (tmp_path / "targets.csv").write_text("kpi,period,value\nnew_revenue,2026-Q1,1500000\n", encoding="utf-8")
    project = Project(tmp_path)
    book = targets_of(project)
    assert {(e.kpi, e.value, e.where) for e in book.entries} == {
        ("new_leads", 700.0, "revalign.yaml:5"),
        ("new_revenue", 1_500_000.0, "targets.csv row 1"),
    }
    listed = targets_in_force(book, project.catalog, kpis=["new_revenue"])
    catalog_rows = listed[listed["source"] == "catalog"]
    # the project's 2026-Q1 company-wide revenue target overrides the catalog's one for the same quarter (if the
    # catalog has one); every other catalog target of new_revenue stays in force
    shipped = default_catalog().get("new_revenue").targets
    expected = sorted((str(t.period), not (str(t.period) == "2026-Q1" and not t.dims)) for t in shipped)
    assert sorted(zip(catalog_rows["period"], catalog_rows["in_force"], strict=True)) == expected
    assert listed[listed["source"] == "project"][["period", "value", "in_force"]].values.tolist() == [
        ["2026-Q1", 1_500_000.0, True]
    ]
    before = fingerprint_of(project)
    (tmp_path / "targets.csv").write_text("kpi,period,value\nnew_revenue,2026-Q1,1500000\nnew_leads,2026-Q1,9\n")
    assert fingerprint_of(Project(tmp_path)) != before  # an edited plan changes the cache key
    with pytest.raises(TargetsError) as err:
        targets_of(Project(tmp_path))  # the same target in revalign.yaml and targets.csv
    assert err.value.issues[0].rule == "duplicate" and "revalign.yaml:5" in str(err.value)
    assert (err.value.file, err.value.row, err.value.rule) == ("targets.csv", 2, "duplicate")


def test_target_files_setting_and_missing_file(tmp_path):
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "fy.yaml").write_text("targets:\n  new_leads: {2025: 100}\n", encoding="utf-8")
    (tmp_path / "revalign.yaml").write_text("target_files: [plans/fy.yaml, plans/gone.csv]\n", encoding="utf-8")
    with pytest.raises(TargetsError) as err:
        targets_of(Project(tmp_path))
    assert [(i.file, i.rule) for i in err.value.issues] == [("plans/gone.csv", "file")]


@pytest.mark.parametrize("suffix", [".csv", ".yaml"])
def test_write_then_read_round_trip(tmp_path, catalog, suffix):
    frame = pd.DataFrame(
        {
            "kpi": ["new_revenue", "new_revenue", "win_rate"],
            "period": ["2025-Q1", "2025-Q1", "2025-Q1"],
            "segment": [None, "smb", None],
            "value": [1_234_567.89, 300_000.0, 0.2734],
            "note": ["2024-Q1 actual 1.1e6, +10%", None, "+2 points"],
        }
    )
    path = write_targets(frame, tmp_path / f"t{suffix}")
    reader = read_targets_csv if suffix == ".csv" else read_targets_yaml
    entries, issues = reader(path, catalog)
    assert issues == []
    assert [(e.kpi, e.dims, e.value, e.note) for e in entries] == [
        ("new_revenue", (), 1_234_567.89, "2024-Q1 actual 1.1e6, +10%"),
        ("new_revenue", (("segment", "smb"),), 300_000.0, None),
        ("win_rate", (), 0.2734, "+2 points"),
    ]


@settings(max_examples=100, deadline=None)
@given(
    present=st.tuples(st.booleans(), st.booleans(), st.booleans(), st.booleans()),
    additive=st.booleans(),
    sliced=st.booleans(),
)
def test_precedence_over_every_combination(present, additive, sliced):
    # values 1..4 mark the source: project exact, catalog exact, project company, catalog company
    project_exact, catalog_exact, project_company, catalog_company = present
    dims = {"segment": "smb"} if sliced else {}
    catalog_targets = [T("2025-Q2", 2.0, **dims)] if catalog_exact else []
    if catalog_company and sliced:
        catalog_targets.append(T("2025-Q2", 4.0))
    entries = [entry("k", 1.0, **dims)] if project_exact else []
    if project_company and sliced:
        entries.append(entry("k", 3.0))
    kpi = K("k", "higher_is_better", kind="simple" if additive else "ratio", agg="sum", targets=catalog_targets)
    found = target_for(kpi, "quarter", Q2, dims, book=TargetBook(entries))
    order = [(project_exact, 1.0), (catalog_exact, 2.0)]
    if sliced and not additive:
        order += [(project_company, 3.0), (catalog_company, 4.0)]
    expected = next((value for ok, value in order if ok), None)
    assert (found.value if found else None) == expected


def test_rollup_warning_when_slices_do_not_add_up(tmp_path):
    (tmp_path / "targets.yaml").write_text(
        "targets:\n"
        "  new_revenue:\n"
        "    - {period: 2026-Q1, value: 1000000}\n"  # line 3
        "    - {period: 2026-Q1, value: 300000, segment: smb}\n"
        "    - {period: 2026-Q1, value: 600000, segment: enterprise}\n"  # 900,000 < 1,000,000: warn
        "    - {period: 2026-Q2, value: 1000000}\n"
        "    - {period: 2026-Q2, value: 400000.004, segment: smb}\n"
        "    - {period: 2026-Q2, value: 599999.998, segment: enterprise}\n"  # rounding only: no warning
        "  customers_churned:\n"
        "    - {period: 2026-Q1, value: 10}\n"
        "    - {period: 2026-Q1, value: 6, segment: smb}\n"
        "    - {period: 2026-Q1, value: 7, segment: enterprise}\n"  # lower is better: 13 allowed > 10: warn
        "  win_rate:\n"
        "    - {period: 2026-Q1, value: 0.3}\n"
        "    - {period: 2026-Q1, value: 0.1, segment: smb}\n",  # a rate does not add up: no warning
        encoding="utf-8",
    )
    project = Project(tmp_path)
    book = targets_of(project)  # warnings do not stop a scorecard
    assert len(book) == 11
    _, issues = check_project_targets(project.folder, project.catalog, **settings_of(project))
    assert [(i.level, i.rule, i.kpi) for i in issues] == [
        (Level.WARNING, "rollup", "customers_churned"),
        (Level.WARNING, "rollup", "new_revenue"),
    ]
    assert "add up to 13, above the company target 10 at targets.yaml:10" in issues[0].message
    assert "add up to 900,000, below the company target 1,000,000 at targets.yaml:3" in issues[1].message


def test_a_broken_target_row_is_named_on_the_scorecard_and_the_others_still_apply(tmp_path):
    """One typo in targets.csv must not take every scorecard down: the good row is used, the bad one is named."""
    from tests.interfaces.server.conftest import OPPORTUNITIES, write_canonical

    project = Project(tmp_path, engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPORTUNITIES.assign(deal_type="new_business"))
    (tmp_path / "targets.csv").write_text(
        "kpi,period,value\nopportunities_created,2025-Q1,4\nopportunities_created,2025-QX,9\n", encoding="utf-8"
    )
    with pytest.raises(TargetsError):
        targets_of(project)  # strict callers (revalign targets check) still fail
    card = project.scorecard("sales", period="2025-Q1", grain="quarter", kpis=["opportunities_created"])
    row = card.row("opportunities_created")
    # fixture: all five opportunities are created in 2025-Q1 → actual 5 against the good row's target 4
    assert (row.actual, row.target, row.status) == (5.0, 4.0, "green")
    (notice,) = card.notices
    assert "targets.csv row 2, column period" in notice and "2025-QX" in notice  # second data row
    assert card.to_dict()["notices"] == [notice]
    project.close()
