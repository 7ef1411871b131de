"""The agreement definition kind: the shipped example reads clean; every broken file names file, line and rule."""

from __future__ import annotations

import datetime as dt

import pytest

from revalign.definitions.agreements.loader import (
    EXAMPLE_FILE,
    check_agreements,
    example_agreement_text,
    parse_agreements,
)
from revalign.definitions.agreements.spec import Within
from revalign.definitions.issues import Level
from revalign.definitions.kpis.catalog import default_catalog
from revalign.errors import CatalogError
from revalign.simulate import SimulationConfig

WINDOWS = {k.name: (k.window if k.type == "conversion" else None) for k in default_catalog()}

GOOD = """\
agreement: ms
version: 1
effective_from: 2025-01-01
signatories: [{role: marketing, person: cmo}, {role: sales, person: vp_sales}]
calendars:
  ny: {timezone: America/New_York, hours: "09:00-17:00", holidays: {country: US}}
slas:
  - name: followup
    start: {lifecycle: mql}
    stop: {touch: sales}
    within: 24 hours
    kpi: sla_followup_compliance
"""


def issues_of(*texts: str, windows=WINDOWS):
    return check_agreements([(t, f"a{i}.yaml") for i, t in enumerate(texts)], kpi_windows=windows)[1]


def test_the_shipped_example_is_clean_and_its_followup_sla_is_the_simulators():
    specs, issues = check_agreements([(example_agreement_text(), EXAMPLE_FILE)], kpi_windows=WINDOWS)
    assert issues == []
    (spec,) = specs
    followup = spec.sla("mql_followup")
    assert followup is not None and followup.within is not None and followup.calendar is None
    # one threshold: the simulator's SLA (calendar hours) is the agreement's allowance
    assert followup.within.seconds == SimulationConfig().sla_hours * 3600
    assert {s.role for s in spec.signatories} >= {"marketing", "sales"}


@pytest.mark.parametrize(
    ("text", "allowance_h"),
    [("24 hours", 24), ("24 business hours", 24), ("2 business days", 16), ("90 minutes", 1.5), ("1 week", 168)],
)
def test_within_reads_calendar_and_business_time(text, allowance_h):
    assert Within.parse(text).allowance(day_hours=8.0) / 3600 == pytest.approx(allowance_h)


def test_a_good_file_has_no_issue():
    assert issues_of(GOOD) == []


@pytest.mark.parametrize(
    ("edit", "line", "rule", "words"),
    [
        (("    within: 24 hours", "    withn: 24 hours"), 11, "schema", "withn"),
        (("{role: sales, person: vp_sales}", "{role: revops, person: ro}"), 4, "signatories", "no sales"),
        (("24 hours\n    kpi: sla_followup_compliance", "24 business hours"), 8, "calendars", "names no calendar"),
        (("America/New_York", "Mars/Olympus"), 5, "calendars", "unknown time zone"),
        (("country: US", "country: XX"), 5, "calendars", "no holidays"),
        (("kpi: sla_followup_compliance", "kpi: sla_folowup"), 8, "kpis", "unknown KPI"),
        (("within: 24 hours", "within: 12 hours"), 8, "kpis", "one place"),
    ],
)
def test_each_problem_names_file_line_and_rule(edit, line, rule, words):
    (issue,) = issues_of(GOOD.replace(*edit))
    assert (issue.file, issue.line, issue.rule, issue.kind) == ("a0.yaml", line, rule, "agreement")
    assert words in issue.message and issue.level is Level.ERROR


def test_a_business_time_sla_tied_to_a_calendar_window_kpi_is_a_warning():
    text = (
        GOOD.replace("24 hours", "3 business hours")
        .replace("ny: {", "default: {")
        .replace("    kpi:", "    calendar: team\n    kpi:")
    )
    (issue,) = issues_of(text)
    assert issue.level is Level.WARNING and "approximation" in issue.message


def test_versions_must_move_forward():
    later = GOOD.replace("version: 1", "version: 2").replace("2025-01-01", "2024-06-01")
    (issue,) = issues_of(GOOD, later)
    assert (issue.file, issue.line, issue.rule) == ("a1.yaml", 3, "versions")


def test_version_in_force_is_the_latest_effective_on_the_day():
    v2 = GOOD.replace("version: 1", "version: 2").replace("2025-01-01", "2025-07-01")
    book = parse_agreements((GOOD, "v1.yaml"), (v2, "v2.yaml"))
    assert book.in_force(dt.date(2024, 12, 31)) is None
    assert book.in_force(dt.date(2025, 6, 30)).version == 1
    assert book.in_force(dt.date(2025, 7, 1)).version == 2
    with pytest.raises(CatalogError, match=r"a0\.yaml:4"):
        parse_agreements((GOOD.replace("{role: sales, person: vp_sales}", "{role: revops, person: x}"), "a0.yaml"))
