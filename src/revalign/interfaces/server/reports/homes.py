"""Role homes: the CMO's, the CRO's, a rep's and customer success's first screen, every number the joint card's.

A leader should not have to assemble their view from eight pages, nor see a number that differs from the one on
the joint scorecard. So each home is built from the **same** scorecard the Scorecards page shows (the library's
:meth:`~revalign.project.Project.scorecard` through :func:`scorecard_card`, for the same period and grain), cut
to the KPIs that role owns, and framed by the analytics that explain them: the driver tree's contributions, channel
ROI and the MQL hand-off for the CMO; the quarter's landing and pipeline waterfall for the CRO; a rep's own rows.
No number is computed here: the functions call the façade and arrange its tables.

Who may open which home is data (:data:`HOME_ROLES`); a rep's home is bound to a person (the login's
``owner_id``) and holds only that person's rows (pay privacy: :mod:`revalign.analytics.privacy`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, get_args

import pandas as pd

from revalign.analytics.forecast.landing import UNITS as LANDING_UNITS
from revalign.analytics.governance.scorecard import Scorecard
from revalign.analytics.handoff import rejection_reasons
from revalign.analytics.privacy import Viewer
from revalign.errors import RevalignError
from revalign.interfaces.server.errors import NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.reports.report import Report, period_bounds, require_data
from revalign.interfaces.server.reports.scorecards import card_covers, scorecard_card, scorecard_frame
from revalign.kpis.request import NONE_LABEL
from revalign.project import Project

HomeName = Literal["cmo", "cro", "rep", "cs"]
"""The role homes (the OpenAPI enum of ``/api/v1/home/{role}``)."""
HOMES: tuple[str, ...] = get_args(HomeName)
HOME_TITLES = {"cmo": "CMO home", "cro": "CRO home", "rep": "My home", "cs": "Customer success home"}
EVERY_HOME = frozenset({"leadership", "admin"})
HOME_ROLES: dict[str, frozenset[str]] = {
    "cmo": frozenset({"marketing"}) | EVERY_HOME,
    "cro": frozenset({"sales"}) | EVERY_HOME,
    "rep": frozenset({"rep"}) | EVERY_HOME,
    "cs": frozenset({"customer_success"}) | EVERY_HOME,
}
"""Which roles may open each home: a department its own, leadership (and admin) all four."""
OWN_HOME = {"marketing": "cmo", "sales": "cro", "rep": "rep", "customer_success": "cs", "leadership": "cro"}
"""The home a role lands on from "Home" in the navigation (leadership: the CRO's, with links to the others)."""
ACCEPTS = ("period",)
"""The filters a home honours: the quarter (default: the joint scorecard's latest)."""
KPI_COLUMNS = ("kpi", "label", "period", "actual", "target", "attainment", "status", "change", "unit", "_drill")
"""The scorecard columns a home shows for its KPIs (the same values as the joint card's)."""
CS_THEMES = {
    "onboarding": ("customers_onboarded", "onboarding_rate"),
    "churn": ("logo_churn_rate", "customers_churned", "churned_mrr", "logo_retention_rate", "net_revenue_retention"),
    "expansion": ("expansion_mrr", "contraction_mrr", "mrr", "active_customers", "arpa"),
    "advocacy": ("advocates", "references", "referrals", "reviews"),
}
"""The customer-success home's four themes and the catalog KPIs under each (those the catalog has are shown)."""
REP_KPIS = (
    "quota_attainment",
    "quota",
    "new_revenue",
    "deals_won",
    "win_rate",
    "pipeline_created",
    "pipeline_in_period",
    "opportunities_created",
    "forecast_bias",
    "forecast_accuracy",
    "commit_forecast",
    "sla_followup_compliance",
)
"""A rep's own KPIs (sliced by owner; one the catalog cannot slice by owner is left out with a notice)."""
REP_TABLE_KPIS = ("new_revenue", "quota", "quota_attainment", "pipeline_created", "forecast_bias")
"""The per-rep columns of the CRO's table (a pay KPI's column is blanked for people the viewer may not see)."""
FORECAST_KPIS = ("quota", "commit_forecast")


def home_of(role: str) -> str | None:
    """The home "Home" in the navigation opens for ``role`` (None: the role has none, Home is the overview)."""
    return OWN_HOME.get(role)


def homes_for(role: str) -> list[str]:
    """The homes ``role`` may open, in :data:`HOMES` order."""
    return [h for h in HOMES if role in HOME_ROLES[h]]


def kpi_rows(frame: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """The scorecard rows of ``names`` (in that order, those the card has), with the columns a home shows."""
    order = {n: i for i, n in enumerate(names)}
    rows = frame[frame["kpi"].isin(list(names))].sort_values("kpi", key=lambda k: k.map(order), kind="stable")
    columns = [c for c in (*[c for c in frame.columns if c == "owner"], *KPI_COLUMNS) if c in rows.columns]
    return rows[columns].reset_index(drop=True)


def department_kpis(frame: pd.DataFrame, department: str) -> list[str]:
    """The KPIs of ``department`` on a scorecard's rows, in the card's order."""
    return list(dict.fromkeys(frame.loc[frame["department"] == department, "kpi"]))


def new_home(project: Project, home: str, card: Scorecard) -> Report:
    report = Report(page=f"home-{home}", title=HOME_TITLES[home])
    report.notices.extend(card.notices)
    report.meta.update(
        drill={t: {"columns": ["actual"]} for t in ("kpis", *CS_THEMES)},
        home=home,
        period=card.period,
        grain=card.grain,
        covers=card_covers(project, card),
        north_star=card.north_star,
    )
    return report


def quarter_range(project: Project, card: Scorecard) -> tuple[dt.date, dt.date]:
    """The card's period as the library's half-open ``[start, end)``."""
    first, last = period_bounds(project, card.period)
    return first, last + dt.timedelta(days=1)


# -- CMO --------------------------------------------------------------------------------------------------------


def cmo_home(project: Project, filters: Filters) -> Report:
    """Marketing's KPIs on the joint card and how they drive the north star, channel ROI, the MQL hand-off and
    its rejection reasons, marketing's SLAs and the audit of marketing-sourced credit."""
    require_data(project, "The CMO home")
    card = scorecard_card(project, "joint", filters)
    report = new_home(project, "cmo", card)
    frame = scorecard_frame(project, card, filters)
    mine = department_kpis(frame, "marketing")
    report.add(
        "kpis",
        f"Marketing KPIs on the joint scorecard, {card.period}",
        kpi_rows(frame, mine),
    )
    tree = project.kpi_tree(card=card)
    drivers = tree[tree["department"] == "marketing"]
    columns = ["kpi", "label", "parent", "status", "actual", "change", "contribution", "contribution_pct", "unit"]
    report.add(
        "drivers", "How marketing's KPIs drive the north star (driver tree)", drivers[columns].reset_index(drop=True)
    )
    start, end = quarter_range(project, card)
    report.add("channels", "Channel ROI (sourced new business)", project.channels(start=start, end=end))
    report.add("handoff", "MQL hand-off: accepted, rejected, untouched", project.handoff(start=start, end=end))
    report.add("rejections", "Why sales rejected MQLs", rejection_reasons(project.tables, start=start, end=end))
    report.add("sla", "SLAs owned by marketing: compliance", owned_slas(project, "marketing", start, end))
    add_audit(project, report, card)
    report.meta["charts"] = [
        {"table": "channels", "x": "channel", "y": "romi", "kind": "bar", "title": "Return on marketing spend"}
    ]
    return report


def owned_slas(project: Project, department: str, start: dt.date, end: dt.date) -> pd.DataFrame:
    """Compliance in ``[start, end)`` of the agreement's clock SLAs owned by ``department`` (the version in force
    at the period's last day, else the latest); empty when no agreement is in force."""
    try:
        book = project.agreements()
        version = book.in_force(end - dt.timedelta(days=1)) or (book.versions[-1] if book.versions else None)
        compliance = project.sla_compliance(by=("sla",), grain=None, start=start, end=end)
    except RevalignError:  # no agreement or no lifecycle events: marketing owns no SLA here yet
        return pd.DataFrame(columns=["sla", "label", "owner"])
    owned = {s.name: s.label for s in (version.slas if version else ()) if s.owner == department and s.type == "clock"}
    rows = compliance[compliance["sla"].isin(sorted(owned))].drop(columns=["period"], errors="ignore")
    rows.insert(1, "label", rows["sla"].map(owned))
    return rows.reset_index(drop=True)


def add_audit(project: Project, report: Report, card: Scorecard) -> None:
    """The audit's summary: who overwrote lead sources (all history, as the overview says it) and the findings
    per kind in the card's quarter."""
    try:
        concentration = project.audit_concentration("lead_source_overwrite")
        rollups = project.audit_rollups()
    except RevalignError:  # no ledger: no audit to summarise
        report.notices.append("The credit audit needs the ledger (field history); none is loaded.")
        return
    if concentration.total:
        report.meta["process"] = [
            {"id": "audit", "text": concentration.sentence(project.settings.currency), "href": "/audit"}
        ]
    trend = rollups.trend
    quarter = trend[trend["quarter"] == card.period].drop(columns=["quarter"])
    quarter = quarter.sort_values("kind", key=lambda k: k != "lead_source_overwrite", kind="stable")
    report.add(
        "audit", f"Credit audit findings, {card.period} (lead-source overwrites first)", quarter.reset_index(drop=True)
    )


# -- customer success ---------------------------------------------------------------------------------------------


def cs_home(project: Project, filters: Filters) -> Report:
    """Onboarding, churn, expansion and advocacy KPIs of the joint card, one table per theme, and their place in
    the driver tree."""
    require_data(project, "The customer success home")
    card = scorecard_card(project, "joint", filters)
    report = new_home(project, "cs", card)
    frame = scorecard_frame(project, card, filters)
    for theme, names in CS_THEMES.items():
        report.add(theme, f"{theme.capitalize()}, {card.period}", kpi_rows(frame, names))
    tree = project.kpi_tree(card=card)
    drivers = tree[tree["department"] == "customer_success"]
    columns = ["kpi", "label", "parent", "status", "actual", "change", "contribution", "unit"]
    report.add("drivers", "Where customer success sits in the driver tree", drivers[columns].reset_index(drop=True))
    return report


# -- CRO --------------------------------------------------------------------------------------------------------


def cro_home(project: Project, filters: Filters) -> Report:
    """Sales' KPIs on the joint card, the quarter's landing against quota and the reps' commit calls, the
    pipeline waterfall, and a table per rep (names, attainment, pipeline, SLA compliance, audit findings)."""
    require_data(project, "The CRO home")
    card = scorecard_card(project, "joint", filters)
    report = new_home(project, "cro", card)
    frame = scorecard_frame(project, card, filters)
    report.add(
        "kpis", f"Sales KPIs on the joint scorecard, {card.period}", kpi_rows(frame, department_kpis(frame, "sales"))
    )
    start, end = quarter_range(project, card)
    add_landing(project, report, frame, start, end)
    by_owner = project.scorecard(period=card.period, grain=card.grain, by=("owner",), kpis=REP_TABLE_KPIS)
    report.add("reps", f"Reps, {card.period}", reps_table(project, by_owner.to_pandas(), start, end))
    report.meta["units"] = {**report.meta.get("units", {}), "reps": {"sla_compliance": "percent"}}
    return report


def add_landing(project: Project, report: Report, frame: pd.DataFrame, start: dt.date, end: dt.date) -> None:
    """The quarter's landing as of its last known day next to the card's quota and commit call, and the open
    pipeline's waterfall (opening → closing) over the same days."""
    try:
        last = project.quarter_landing().as_of
    except RevalignError as exc:  # no ledger: no forecast, the rest of the home still shows
        report.notices.append(f"No forecast: {exc}")
        return
    if start > last:
        report.notices.append(f"{report.meta['period']} starts after the last day the data knows ({last}).")
        return
    landing = project.quarter_landing(min(last, end - dt.timedelta(days=1)))
    rows = [
        {"kpi": "landing", "label": "Forecast landing", "value": landing.frame["landing"].iloc[0]},
        {"kpi": "won", "label": "Won so far", "value": landing.frame["won"].iloc[0]},
        {"kpi": "naive", "label": "Naive run-rate", "value": landing.frame["naive"].iloc[0]},
    ]
    called = kpi_rows(frame, FORECAST_KPIS)
    rows += [{"kpi": r.kpi, "label": r.label, "value": r.actual} for r in called.itertuples()]
    vs = pd.DataFrame(rows).assign(unit="currency")
    report.add("forecast", f"Where {landing.quarter} lands (as of {landing.as_of}) vs quota and commit", vs)
    report.add("landing", "The landing, part by part", landing.frame)
    waterfall = project.pipeline_waterfall(
        landing.quarter_start, min(landing.quarter_end, landing.as_of + dt.timedelta(1))
    )
    report.add("bridge", f"Open pipeline, {landing.quarter}: opening → closing", waterfall.bridge())
    report.meta["units"] = {"landing": LANDING_UNITS, "bridge": {"amount": "currency"}}
    report.meta["charts"] = [
        {"table": "bridge", "x": "label", "y": "amount", "measure": "measure", "kind": "waterfall",
         "title": f"How the open pipeline moved in {landing.quarter}"},
    ]  # fmt: skip


def reps_table(project: Project, by_owner: pd.DataFrame, start: dt.date, end: dt.date) -> pd.DataFrame:
    """One row per owner with a value on the card: name, the KPIs of :data:`REP_TABLE_KPIS`, SLA compliance over
    every clock SLA in ``[start, end)`` and the audit findings (not dismissed) the person made in the quarter."""
    people_rows = by_owner[by_owner["owner"].notna() & ~by_owner["owner"].isin(["", NONE_LABEL])]  # a KPI without rows
    wide = people_rows.pivot_table(index="owner", columns="kpi", values="actual", aggfunc="first", dropna=False)
    wide = wide.reindex(columns=[k for k in REP_TABLE_KPIS if k in wide.columns]).reset_index()
    people = users_frame(project)
    wide.insert(1, "name", wide["owner"].map(people).fillna(wide["owner"]))
    try:
        sla = project.sla_compliance(by=("owner_id",), grain=None, start=start, end=end)
        wide["sla_compliance"] = wide["owner"].map(dict(zip(sla["owner_id"], sla["compliance_rate"], strict=True)))
    except RevalignError:  # no agreement in force: no SLA column
        pass
    try:
        found = project.audit_findings(since=start)
        by_actor = project.audit_rollups(found[found["occurred_at"] < pd.Timestamp(end)]).by_actor
        counts = dict(zip(by_actor["actor_id"], by_actor["findings"], strict=True))
        wide["audit_findings"] = wide["owner"].map(counts).fillna(0).astype("int64")
    except RevalignError:  # no ledger: no audit column
        pass
    return wide.sort_values("name", kind="stable").reset_index(drop=True)


def users_frame(project: Project) -> dict[str, str]:
    """user_id → name from the canonical users table (empty when none was loaded)."""
    if not project.tables.has("users"):
        return {}
    users = project.table("users")
    frame = project.tables.to_pandas(users.select("user_id", "name"))
    return {str(u): str(n) for u, n in zip(frame["user_id"], frame["name"], strict=True) if isinstance(n, str)}


# -- rep --------------------------------------------------------------------------------------------------------


def rep_home(project: Project, filters: Filters, owner: str | None, viewer: Viewer) -> Report:
    """``owner``'s own KPIs (the joint card sliced by owner: attainment, pipeline, forecast bias…), their SLA
    compliance and, when a comp plan exists, their payout statement for the quarter — nobody else's rows."""
    require_data(project, "A rep's home")
    if owner is None:
        raise NotAvailable("A rep's home", "this login is not linked to a person (an admin links it with --owner-id).")
    by_owner = Filters(period=filters.period, by="owner")
    card = project.scorecard(
        period=filters.period, grain="quarter", by=("owner",), kpis=[k for k in REP_KPIS if k in project.catalog]
    )
    report = new_home(project, "rep", card)
    report.meta["owner"] = owner
    report.title = f"Home of {users_frame(project).get(owner, owner)}"
    frame = scorecard_frame(project, card, by_owner)
    report.add("kpis", f"Your KPIs, {card.period}", kpi_rows(frame[frame["owner"] == owner], REP_KPIS))
    start, end = quarter_range(project, card)
    try:
        sla = project.sla_compliance(by=("sla", "owner_id"), grain=None, start=start, end=end)
        report.add("sla", "Your SLA compliance", sla[sla["owner_id"] == owner].reset_index(drop=True))
    except RevalignError:  # no agreement in force
        report.notices.append("No SLA is in force for this period.")
    add_payout(project, report, owner, viewer, card.period, start, end)
    return report


def add_payout(
    project: Project, report: Report, owner: str, viewer: Viewer, period: str, start: dt.date, end: dt.date
) -> None:
    """``owner``'s payout statement for ``period`` under the project's comp plan (when there is exactly one)."""
    try:
        plans = project.comp_plans()
        if len(plans) != 1:
            return
        pay = project.comp_payouts(next(iter(plans)), viewer=viewer, start=start, end=end)
    except RevalignError as exc:  # a broken plan file: say so, the rest of the home still shows
        report.notices.append(f"No payout statement: {exc}")
        return
    statements = pay.statements
    mine = statements[(statements["user_id"] == owner) & (statements["period"] == period)]
    totals = pay.totals[(pay.totals["user_id"] == owner) & (pay.totals["period"] == period)]
    report.add("payout", f"Your payout statement, {period} ({pay.plan} v{pay.version})", mine.reset_index(drop=True))
    report.add("payout_total", "Your payout", totals.reset_index(drop=True))
