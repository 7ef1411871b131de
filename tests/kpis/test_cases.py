"""Hand-computed KPI cases (cases/*.yaml) on the tiny fixture, on every engine: the arithmetic is in the YAML.

Cases that ask the same request (grain, dimensions, period, as-of date, fiscal year) are computed together, in
one query per engine, as the library evaluates many KPIs: Spark spends seconds planning each query, however
small the data.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from revalign.project import Project
from tests.kpis.conftest import kpi_values, with_fiscal_year

CASES = [
    c for f in sorted((Path(__file__).parent / "cases").glob("*.yaml")) for c in yaml.safe_load(f.read_text())["cases"]
]
REQUEST_KEYS = ("grain", "by", "as_of", "start", "end", "fiscal_year_start_month")


def request_of(case: dict[str, Any]) -> tuple[Any, ...]:
    """What a case asks the library besides its KPI; cases with the same request share one query."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in (case.get(k) for k in REQUEST_KEYS))


class CaseValues:
    """One engine's values for the cases, computed per request on first use and kept for the module."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.computed: dict[tuple[Any, ...], pd.DataFrame] = {}

    def of(self, case: dict[str, Any]) -> pd.DataFrame:
        """The rows of ``case``'s KPI (without the ``kpi`` column) from its request's one query."""
        request = request_of(case)
        if request not in self.computed:
            names = sorted({c["kpi"] for c in CASES if request_of(c) == request})
            self.computed[request] = kpi_values(
                with_fiscal_year(self.project, case.get("fiscal_year_start_month", 1)),
                names,
                grain=case["grain"],
                by=tuple(case.get("by", ())),
                as_of=case.get("as_of"),
                start=case.get("start"),
                end=case.get("end"),
            )
        frame = self.computed[request]
        return frame[frame["kpi"] == case["kpi"]].drop(columns="kpi")


@pytest.fixture(scope="module")
def case_values(tiny_project_on_engine: Project) -> CaseValues:
    return CaseValues(tiny_project_on_engine)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case(case: dict[str, Any], case_values: CaseValues) -> None:
    by = list(case.get("by", ()))
    got = case_values.of(case).sort_values(["period_start", *by]).reset_index(drop=True)
    expected = pd.DataFrame(case["expected"])
    expected["period_start"] = [dt.date.fromisoformat(str(d)) for d in expected["period_start"]]
    for d in by:
        expected[d] = expected[d].astype(str)
    expected = expected.sort_values(["period_start", *by]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected[got.columns.tolist()], check_dtype=False, rtol=1e-9)
