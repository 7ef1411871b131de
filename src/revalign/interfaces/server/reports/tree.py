"""The driver tree page: every KPI under its catalog parent, coloured by status, with its contribution.

Company-wide or one segment, for one period: the same joint scorecard the Scorecards page shows (so every number
matches it), arranged by :func:`revalign.analytics.governance.kpi_tree.kpi_tree`, and the decomposition of the
north star's change into that period for the contributions.
"""

from __future__ import annotations

from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, records_link
from revalign.interfaces.server.reports.scorecards import card_covers, scorecard_card
from revalign.project import Project

ACCEPTS = ("period", "grain", "segment")
"""The filters the page honours (any other is a 422 naming it)."""


def tree_report(project: Project, filters: Filters) -> Report:
    """The KPI tree for the filters' period (default: the latest) and segment (default: the company)."""
    card = scorecard_card(project, "joint", filters)
    report = Report(page="tree", title="Driver tree")
    report.notices.extend(card.notices)
    frame = project.kpi_tree(segment=filters.segment, card=card)
    if frame["contribution"].isna().all():
        report.notices.append("No contributions: the north star has no earlier period to compare with.")
    frame["_drill"] = [records_link(project, k, card.period, filters.segment) for k in frame["kpi"]]
    title = f"Every KPI under the north star, {card.period}" + (
        f", segment {filters.segment}" if filters.segment else ""
    )
    report.add("tree", title, frame)
    report.meta.update(
        period=card.period,
        grain=card.grain,
        covers=card_covers(project, card),
        north_star=card.north_star,
        unlinked=int((~frame["linked"]).sum()),
    )
    return report
