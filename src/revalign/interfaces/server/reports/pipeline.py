"""The Pipeline page: where the quarter lands and how the open pipeline moved to get there.

One quarter (the filters' ``period``, default the one holding the ledger's last day), forecast as of its last
known day: the landing (won so far + weighted open pipeline + run-rate of pipeline not yet created, next to the
naive run-rate) per team, segment or channel, and the quarter's pipeline as a waterfall (opening, created,
amount changed, won, lost, closing) with its weekly movements. Numbers come from
:mod:`revalign.analytics.forecast` and :mod:`revalign.analytics.waterfall` through the façade.
"""

from __future__ import annotations

import datetime as dt

from revalign.analytics.forecast.landing import UNITS as LANDING_UNITS
from revalign.analytics.waterfall import UNITS as WATERFALL_UNITS
from revalign.errors import DataError
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, require_data
from revalign.model.calendar import parse_period, period_end, period_start
from revalign.project import Project

ACCEPTS = ("period", "by")
"""The filters the page honours; ``by`` is narrowed to team, segment or channel (a per-owner forecast is
person-level pay data)."""
SPLITS = ("team", "segment", "channel")


def pipeline_report(project: Project, filters: Filters) -> Report:
    """The quarter's landing (company, and by ``filters.by``) and its pipeline waterfall."""
    require_data(project, "Pipeline")
    fs = project.fiscal_year_start_month
    last = project.quarter_landing().as_of  # the ledger's last known day
    as_of = last
    if filters.period:  # that quarter as of its last day, or as of the last known day while it is still running
        quarter = period_start(parse_period(filters.period, fs).start, "quarter", fs)
        if quarter > last:
            raise DataError(f"{filters.period} starts after the last day the data knows ({last}): nothing to forecast")
        as_of = min(last, period_end(quarter, "quarter") - dt.timedelta(days=1))
    company = project.quarter_landing(as_of)
    report = Report(page="pipeline", title="Pipeline and forecast")
    report.add("landing", f"Where {company.quarter} lands, as of {company.as_of}", company.frame)
    units = {"landing": LANDING_UNITS, "bridge": {"amount": "currency"}, "weeks": WATERFALL_UNITS}
    if filters.by:
        split = project.quarter_landing(as_of, by=(filters.by,))
        report.add("landing_by", f"By {filters.by}", split.frame)
        units["landing_by"] = LANDING_UNITS
    waterfall = project.pipeline_waterfall(company.quarter_start, min(company.quarter_end, as_of + dt.timedelta(1)))
    report.add("bridge", f"Open pipeline, {company.quarter}: opening → closing", waterfall.bridge())
    report.add("weeks", "Week by week", waterfall.frame)
    report.meta.update(
        period=company.quarter,
        grain="quarter",
        as_of=company.as_of.isoformat(),
        elapsed_share=company.elapsed_share,
        units=units,
        covers={"text": f"Covers {company.quarter} up to {company.as_of} (the last day the data knows)"},
        charts=[
            {
                "table": "bridge",
                "x": "label",
                "y": "amount",
                "measure": "measure",
                "kind": "waterfall",
                "title": f"How the open pipeline moved in {company.quarter}",
            },
            {"table": "weeks", "x": "week", "y": "closing", "kind": "line", "title": "Open pipeline, each week's end"},
        ],
    )
    return report
