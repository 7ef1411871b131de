"""The reports the server shows, each one call into the library; the server never computes a number.

Every page and its JSON twin call the same function here, so a page cannot disagree with the API. Each
function turns the library's result into a :class:`Report` (named pandas tables plus notices). When the
analytic behind a report is not installed or not computed yet, the report says so (``available=False``)
instead of showing zeros.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from revalign.errors import PermissionDenied, RevalignError
from revalign.interfaces.server.errors import BadRequest, NotAvailable
from revalign.interfaces.server.filters import Filters
from revalign.interfaces.server.roles import can_see_pay_data, sees_all_records
from revalign.interfaces.server.state import UserRecord
from revalign.project import Project


@dataclass
class Report:
    """What one page shows: named tables (in display order), notices, and page-specific metadata."""

    page: str
    title: str
    tables: dict[str, tuple[str, pd.DataFrame]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    available: bool = True

    def add(self, name: str, title: str, frame: pd.DataFrame) -> None:
        self.tables[name] = (title, frame)


def unavailable(page: str, title: str, exc: NotAvailable) -> Report:
    return Report(page=page, title=title, available=False, notices=[str(exc)])


def library(module: str, attr: str, feature: str) -> Callable[..., Any]:
    """``module.attr`` from the library, or :class:`NotAvailable` naming what is missing."""
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        raise NotAvailable(feature, f"{module} is not part of this installation yet ({exc.name}).") from exc
    target = getattr(mod, attr, None)
    if target is None:
        raise NotAvailable(feature, f"{module}.{attr} does not exist in this version of revalign.")
    return target


def as_frame(project: Project, result: Any) -> pd.DataFrame:
    """A library result (DataFrame, Ibis table, or object with ``to_pandas()``) as a DataFrame."""
    if isinstance(result, pd.DataFrame):
        return result
    to_pandas = getattr(result, "to_pandas", None)
    if callable(to_pandas):
        return to_pandas()
    if hasattr(result, "schema") and hasattr(result, "op"):  # an Ibis expression: run it on the project engine
        return project.engine.execute(result)
    if isinstance(result, list):
        return pd.DataFrame(result)
    raise TypeError(f"cannot show a {type(result).__name__} as a table")


def period_kwargs(filters: Filters) -> dict[str, Any]:
    """``start``/``end`` for the library, whose date ranges are half-open: the API's inclusive ``end`` + 1 day."""
    from datetime import timedelta

    out: dict[str, Any] = {}
    if filters.start is not None:
        out["start"] = filters.start
    if filters.end is not None:
        out["end"] = filters.end + timedelta(days=1)
    return out


def has_data(project: Project, table: str = "opportunities") -> bool:
    return project.engine.has_table(table)


def require_data(project: Project, feature: str) -> None:
    if not any(project.engine.has_table(t) for t in ("leads", "opportunities")):
        raise NotAvailable(feature, "this project has no data yet. Run `revalign demo` or `revalign ingest`.")


# -- KPI catalog --------------------------------------------------------------------------------------------


def catalog(project: Project) -> Any:
    """The project's KPI catalog (default catalog plus the project's own folders)."""
    for_project = getattr(project, "catalog", None)
    if for_project is not None and not callable(for_project):
        return for_project
    return library("revalign.kpis", "default_catalog", "The KPI catalog")()


def kpi_names(cat: Any) -> list[str]:
    for attr in ("names", "kpi_names"):
        value = getattr(cat, attr, None)
        if value is not None:
            return list(value() if callable(value) else value)
    kpis = getattr(cat, "kpis", None)
    if isinstance(kpis, Mapping):
        return list(kpis)
    return [k.name for k in (kpis() if callable(kpis) else kpis or [])]


def _formula(kpi: Any) -> str:
    """A human-readable definition from the spec fields (text, not numbers)."""
    explicit = getattr(kpi, "formula", None)
    if isinstance(explicit, str) and explicit:
        return explicit
    kind = getattr(kpi, "type", "")
    if kind == "ratio" and kpi.numerator and kpi.denominator:
        return f"{kpi.numerator.name} / {kpi.denominator.name}"
    if kind == "derived" and getattr(kpi, "expr", None):
        return str(kpi.expr)
    if kind == "conversion" and kpi.base_metric and kpi.conversion_metric:
        window = f" within {kpi.window}" if kpi.window else ""
        return f"{kpi.conversion_metric.name} / {kpi.base_metric.name}{window} (per {kpi.entity})"
    if kind == "cumulative" and kpi.input_metric:
        return f"cumulative {kpi.input_metric.name}" + (f" over {kpi.window}" if kpi.window else "")
    parts = [p for p in (getattr(kpi, "agg", None), getattr(kpi, "measure", None), getattr(kpi, "expr", None)) if p]
    where = f" of {kpi.semantic_model}" if getattr(kpi, "semantic_model", None) else ""
    filt = f" where {kpi.filter}" if getattr(kpi, "filter", None) else ""
    return (" ".join(str(p) for p in parts) + where + filt).strip()


def _tree_path(cat: Any, name: str) -> list[str]:
    path, seen = [name], {name}
    current = cat.get(name)
    while getattr(current, "parent", None) and current.parent not in seen:
        path.append(current.parent)
        seen.add(current.parent)
        try:
            current = cat.get(current.parent)
        except RevalignError:
            break
    return list(reversed(path))


def kpi_row(cat: Any, name: str) -> dict[str, Any]:
    kpi = cat.get(name)
    children = [n for n in kpi_names(cat) if getattr(cat.get(n), "parent", None) == name]
    return {
        "name": name,
        "label": getattr(kpi, "label", "") or name,
        "description": getattr(kpi, "description", ""),
        "type": getattr(kpi, "type", None),
        "formula": _formula(kpi),
        "unit": getattr(kpi, "unit", None),
        "owner": getattr(kpi, "owner", None),
        "department": getattr(kpi, "department", None),
        "direction": getattr(kpi, "direction", None),
        "timing": getattr(kpi, "timing", None),
        "north_star": bool(getattr(kpi, "north_star", False)),
        "parent": getattr(kpi, "parent", None),
        "children": children,
        "tree_path": _tree_path(cat, name),
        "targets": [_dump(t) for t in getattr(kpi, "targets", []) or []],
        "revisions": [_dump(r) for r in getattr(kpi, "revisions", []) or []],
    }


def _dump(obj: Any) -> Any:
    dump = getattr(obj, "model_dump", None)
    return dump(mode="json") if callable(dump) else obj


def glossary(project: Project) -> Report:
    """Every KPI: definition, formula, owner, targets, revisions and where it sits in the driver tree."""
    report = Report(page="glossary", title="KPI glossary")
    try:
        cat = catalog(project)
    except NotAvailable as exc:
        return unavailable("glossary", "KPI glossary", exc)
    rows = [kpi_row(cat, n) for n in sorted(kpi_names(cat))]
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.assign(
            tree_path=frame["tree_path"].map(" › ".join),
            children=frame["children"].map(", ".join),
            targets=frame["targets"].map(lambda ts: "; ".join(f"{t.get('period')}: {t.get('value')}" for t in ts)),
            revisions=frame["revisions"].map(
                lambda rs: "; ".join(f"{r.get('effective_from')}: {r.get('note', '')}" for r in rs)
            ),
        )
    report.add("kpis", "KPIs", frame)
    report.meta["north_star"] = [r["name"] for r in rows if r["north_star"]]
    return report


def kpi_detail(project: Project, name: str) -> dict[str, Any]:
    """One KPI's glossary entry plus the SQL it compiles to on this project's engine, when available."""
    cat = catalog(project)
    row = kpi_row(cat, name)
    try:
        row["sql"] = project.kpi(name).explain()  # type: ignore[attr-defined]
    except (AttributeError, TypeError, NotImplementedError, RevalignError):
        row["sql"] = None
    return row


def evaluate(project: Project, names: list[str], filters: Filters) -> pd.DataFrame:
    """KPI values per period (and dimension) from the catalog's evaluator."""
    run = library("revalign.kpis", "evaluate", "KPI evaluation")
    kwargs: dict[str, Any] = {"grain": filters.grain or "month", **period_kwargs(filters)}
    by = [d for d in (filters.by,) if d]
    if by:
        kwargs["by"] = by
    kwargs["fiscal_year_start_month"] = project.settings.fiscal_year_start_month
    frame = as_frame(project, run(project.tables, project.catalog, names, **kwargs))
    if filters.segment is not None:
        if "segment" not in frame.columns:
            sliced = {**kwargs, "by": [*by, "segment"]}
            frame = as_frame(project, run(project.tables, project.catalog, names, **sliced))
        frame = frame[frame["segment"] == filters.segment]
    return frame


# -- drill-down records -------------------------------------------------------------------------------------

RECORD_TABLES: dict[str, dict[str, str | None]] = {
    # table: {"owner": column holding the owning user's id, "channel": channel column, "pay": "yes" if person-level}
    "leads": {"owner": "owner_id", "channel": "lead_source"},
    "opportunities": {"owner": "owner_id", "channel": "lead_source"},
    "accounts": {"owner": "owner_id", "channel": None},
    "touchpoints": {"owner": None, "channel": "channel"},
    "subscriptions": {"owner": None, "channel": None},
    "campaigns": {"owner": None, "channel": "channel"},
    "spend": {"owner": None, "channel": "channel"},
    "quotas": {"owner": "user_id", "channel": None, "pay": "yes"},
}
"""Tables whose rows can be listed behind a number, and which columns carry owner and channel."""


@dataclass(frozen=True)
class RecordQuery:
    table: str
    filters: Filters
    kpi: str | None = None
    owner_id: str | None = None
    channel: str | None = None
    stage: str | None = None
    limit: int = 100
    offset: int = 0


def record_scope(user: UserRecord, query: RecordQuery) -> str | None:
    """The owner a listing is restricted to for ``user`` (``None`` = all), or PermissionDenied.

    A rep sees only records they own: asking for another owner's records is refused (403), not silently
    narrowed, so a rep cannot mistake an empty list for "that colleague has no deals". Person-level pay data
    (quotas) is for pay-data roles, or a rep's own.
    """
    spec = RECORD_TABLES[query.table]
    owner_col = spec.get("owner")
    if sees_all_records(user.role):
        if spec.get("pay") and not can_see_pay_data(user.role) and query.owner_id is None:
            raise PermissionDenied(
                f"{query.table} holds person-level pay data; your role ({user.role}) may not list it. "
                "Ask an admin, leadership or RevOps user."
            )
        return query.owner_id
    if owner_col is None:
        raise PermissionDenied(
            f"As a rep you can list only your own records (leads, opportunities, accounts, quotas); "
            f"{query.table} has no owner."
        )
    if query.owner_id is not None and query.owner_id != user.owner_id:
        raise PermissionDenied("As a rep you can open only your own records, not another rep's.")
    return user.owner_id


def kpi_model(project: Project, kpi: str) -> tuple[Any, Any]:
    """The KPI spec whose rows count (a ratio's numerator, a conversion's base…) and its semantic model."""
    cat = catalog(project)
    spec = cat.get(kpi)
    model_name = getattr(spec, "semantic_model", None)
    if model_name is None:
        for attr in ("numerator", "base_metric", "input_metric"):
            inp = getattr(spec, attr, None)
            if inp is not None:
                return kpi_model(project, inp.name)
        inputs = getattr(spec, "input_metrics", None) or []
        return kpi_model(project, inputs[0].name) if inputs else (spec, None)
    models = getattr(cat, "semantic_models", None)
    model = models.get(model_name) if isinstance(models, Mapping) else None
    return spec, model


def kpi_table(project: Project, kpi: str) -> str | None:
    """The canonical table behind a KPI (through its semantic model), when the catalog says."""
    return getattr(kpi_model(project, kpi)[1], "table", None)


def kpi_time_column(project: Project, kpi: str) -> str | None:
    """The column a KPI puts its rows in periods by (``closed_at`` for won revenue), when the catalog says."""
    spec, model = kpi_model(project, kpi)
    name = getattr(spec, "agg_time_dimension", None) or getattr(model, "agg_time_dimension", None)
    if name is None:
        return None
    for dim in getattr(model, "dimensions", []) or []:
        if dim.name == name:
            return dim.expr or dim.name
    return name


def rows_behind(project: Project, kpi: str, table: str) -> Any | None:
    """The rows of ``table`` that KPI ``kpi`` counts (its filters applied), or ``None`` when it reads another table.

    The KPI package builds them (``revalign.kpis.query.kpi_rows``), so a drill-down lists exactly what the number
    aggregated; a KPI without rows of its own (derived) drills into its first input, as ``kpi_model`` resolves.
    """
    from revalign.kpis.query import kpi_rows

    try:
        spec, model = kpi_model(project, kpi)
        if getattr(model, "table", None) != table:
            return None
        return kpi_rows(project.tables, catalog(project), spec.name)
    except RevalignError:
        return None


def records(project: Project, user: UserRecord, query: RecordQuery, *, max_rows: int) -> Report:
    """The rows behind a number: the table filtered to the period, segment, channel, stage and owner asked for.

    This lists records; it aggregates nothing (the row count is the length of the filtered table).
    """
    from revalign.model.tables import TABLES

    if query.table not in RECORD_TABLES:
        raise BadRequest(
            f"table must be one of {', '.join(RECORD_TABLES)}. Got {query.table!r} instead.",
            loc=("path", "table"),
            rule="enum",
        )
    owner = record_scope(user, query)
    spec, model = RECORD_TABLES[query.table], TABLES[query.table]
    if query.channel is not None and not spec.get("channel"):
        raise BadRequest(f"{query.table} has no channel column.", loc=("query", "channel"), rule="not_applicable")
    if query.stage is not None and "stage" not in model.column_names:
        raise BadRequest(f"{query.table} has no stage column.", loc=("query", "stage"), rule="not_applicable")
    report = Report(page="records", title=f"{query.table.capitalize()} behind the number")
    if not project.engine.has_table(query.table):
        report.available = False
        report.notices.append(f"No {query.table} were loaded in this project yet.")
        return report
    t = project.table(query.table)
    time_col = model.time_column
    if query.kpi is not None:
        kpi_rows = rows_behind(project, query.kpi, query.table)
        if kpi_rows is not None:
            # the rows behind a KPI value: the ones it counted (its filters), in the period it put them in
            t, time_col = kpi_rows, "__kpi_time"
    columns = set(t.columns)
    if time_col and query.filters.start is not None:
        t = t.filter(t[time_col] >= pd.Timestamp(query.filters.start))
    if time_col and query.filters.end is not None:
        t = t.filter(t[time_col] < pd.Timestamp(query.filters.end) + pd.Timedelta(days=1))
    if query.filters.segment is not None and "segment" in columns:
        t = t.filter(t["segment"] == query.filters.segment)
    if query.channel is not None:
        t = t.filter(t[spec["channel"]] == query.channel)
    if query.stage is not None:
        t = t.filter(t["stage"] == query.stage)
    if owner is not None:
        t = t.filter(t[spec["owner"]] == owner)
    if time_col:
        t = t.order_by([t[time_col].desc(), t[model.primary_key[0]] if model.primary_key else t[time_col]])
    elif model.primary_key:
        t = t.order_by(model.primary_key[0])
    total = int(project.engine.execute(t.count()))
    limit = min(query.limit, max_rows)
    frame = project.engine.execute(t.limit(limit, offset=query.offset))
    frame = frame.drop(columns=["__kpi_time"], errors="ignore")
    report.add(query.table, query.table.capitalize(), frame)
    report.meta.update(
        total_rows=total,
        limit=limit,
        offset=query.offset,
        kpi=query.kpi,
        owner_scope=owner,
        time_column=kpi_time_column(project, query.kpi) if time_col == "__kpi_time" else time_col,
    )
    if total > query.offset + limit:
        report.notices.append(f"Showing rows {query.offset + 1}–{query.offset + len(frame)} of {total}.")
    return report


# -- analytics (driver tree, scorecards, alignment, funnel, channels, attribution) ---------------------------


def analytic(project: Project, method: str, module: str, function: str, feature: str) -> Callable[..., Any]:
    """``project.<method>`` when the Project offers it, else ``module.function`` bound to the project."""
    bound = getattr(project, method, None)
    if callable(bound):
        return bound
    target = library(module, function, feature)
    return lambda *args, **kwargs: target(project, *args, **kwargs)


def north_star(project: Project) -> str:
    cat = catalog(project)
    for name in kpi_names(cat):
        if getattr(cat.get(name), "north_star", False):
            return name
    raise NotAvailable("The north star", "no KPI in the catalog is marked north_star: true.")


DEPARTMENTS = ("marketing", "sales", "revops", "customer_success", "joint")


def guarded(page: str, title: str, build: Callable[..., Report], *args: Any) -> Report:
    """``build(*args)``, or an "available: false" report naming what is missing."""
    try:
        return build(*args)
    except NotAvailable as exc:
        return unavailable(page, title, exc)
    except ImportError as exc:  # the analytic imports a part of the library that has not landed yet
        return unavailable(page, title, NotAvailable(title, f"a module it needs is missing ({exc.name or exc})."))


def fiscal_start(project: Project) -> int:
    return int(project.settings.fiscal_year_start_month)


def period_bounds(project: Project, label: str) -> tuple[Any, Any]:
    """First and last day (inclusive) of a period label, by the project's fiscal calendar."""
    from datetime import timedelta

    from revalign.model.calendar import parse_period

    p = parse_period(label, fiscal_start(project))
    return p.start, p.end - timedelta(days=1)


def records_link(project: Project, kpi: str, label: str | None, segment: str | None = None, **extra: Any) -> str | None:
    """``/records/<table>?kpi=…&start=…&end=…`` for the rows behind ``kpi`` in period ``label``."""
    from urllib.parse import urlencode

    try:
        table = kpi_table(project, kpi)
    except RevalignError:
        return None
    if table not in RECORD_TABLES:
        return None
    params: dict[str, Any] = {"kpi": kpi}
    if label:
        try:
            start, end = period_bounds(project, label)
        except ValueError:
            return None  # a link without the period would list every period's rows: no link is better
        params.update(start=start.isoformat(), end=end.isoformat())
    if segment:
        params["segment"] = segment
    params.update({k: v for k, v in extra.items() if v is not None})
    return f"/records/{table}?{urlencode(params)}"


def with_drill(project: Project, kpi: str, frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """``frame`` (KPI values per ``period_start``) plus a ``_drill`` link to the records behind each value."""
    from revalign.model.calendar import period_label

    if frame.empty or "period_start" not in frame.columns:
        return frame
    grain = filters.grain or "month"
    segments = frame["segment"] if "segment" in frame.columns else [filters.segment] * len(frame)
    links = []
    for start, segment in zip(frame["period_start"], segments, strict=True):
        label = period_label(pd.Timestamp(start).date(), grain, fiscal_start(project))
        links.append(records_link(project, kpi, label, segment if isinstance(segment, str) else None))
    return frame.assign(_drill=links)


SCORECARD_COLUMNS = (
    "kpi",
    "label",
    "department",
    "period",
    "actual",
    "target",
    "attainment",
    "status",
    "previous_period",
    "previous",
    "change",
    "pct_change",
    "movement",
    "trend_direction",
    "unit",
    "direction",
)


def sliceable(project: Project, names: list[str], dims: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Split ``names`` into KPIs that can be sliced by every dimension in ``dims`` and those that cannot.

    Compiling a query touches no data, so this asks the KPI compiler itself rather than guessing.
    """
    ok, left_out = [], []
    for name in names:
        try:
            project.kpi(name).by(*dims).to_ibis()  # type: ignore[attr-defined]
            ok.append(name)
        except RevalignError:
            left_out.append(name)
    return ok, left_out


def scorecard_object(project: Project, department: str, filters: Filters) -> tuple[Any, list[str]]:
    """The library's scorecard for ``department`` (``joint``: every KPI) in the filters' period and grain.

    When the filters slice by a dimension that some KPIs do not have (spend has no segment), those KPIs are
    left out and named in ``scorecard.left_out`` instead of failing the whole card.
    """
    require_data(project, "Scorecards")
    by = tuple(d for d in (filters.by, "segment" if filters.segment and filters.by != "segment" else None) if d)
    kwargs: dict[str, Any] = {"grain": filters.grain or "quarter", "by": by}
    if filters.period:
        kwargs["period"] = filters.period
    dept = None if department == "joint" else department
    left_out: list[str] = []
    if by:
        cat = catalog(project)
        names = kpi_names(cat) if dept is None else [k.name for k in cat.by_department(dept)]
        star = getattr(cat, "north_star", None)
        if star and star not in names:
            names = [star, *names]
        kwargs["kpis"], left_out = sliceable(project, names, by)
    return project.scorecard(dept, **kwargs), left_out


def scorecard_frame(project: Project, card: Any, filters: Filters) -> pd.DataFrame:
    frame = card.to_pandas()
    if filters.segment is not None and "segment" in frame.columns:
        frame = frame[frame["segment"] == filters.segment]
    dims = [c for c in getattr(card, "by", ()) if c in frame.columns]
    frame = frame[[*dims, *[c for c in SCORECARD_COLUMNS if c in frame.columns]]].reset_index(drop=True)
    frame["_drill"] = [
        records_link(project, k, p, filters.segment) for k, p in zip(frame["kpi"], frame["period"], strict=True)
    ]
    return frame


def left_out_notice(card: Any, left_out: list[str]) -> list[str]:
    if not left_out:
        return []
    dims = ", ".join(getattr(card, "by", ()))
    return [f"{len(left_out)} KPIs cannot be sliced by {dims} and are left out: {', '.join(sorted(left_out))}."]


def scorecard(project: Project, department: str, filters: Filters) -> Report:
    """A department's scorecard (its KPIs and the north star) or the joint one, with period-over-period."""
    card, left_out = scorecard_object(project, department, filters)
    title = "Joint scorecard" if department == "joint" else f"{department.replace('_', ' ').capitalize()} scorecard"
    report = Report(page="scorecards", title=title)
    frame = scorecard_frame(project, card, filters)
    report.notices.extend([*left_out_notice(card, left_out), *getattr(card, "notices", ())])
    report.add("scorecard", f"{title}, {card.period}", frame)
    status = card.department_status()
    report.add(
        "department_status", "Departments", pd.DataFrame({"department": list(status), "status": list(status.values())})
    )
    report.meta.update(
        period=card.period,
        grain=card.grain,
        north_star=card.north_star,
        drill={"scorecard": {"columns": ["actual"]}},
        charts=[
            {
                "table": "scorecard",
                "x": "label",
                "y": "attainment",
                "kind": "bar",
                "title": "Attainment vs target (1.0 = on target)",
            }
        ],
    )
    return report


def first_analytic(
    project: Project, method: str, module: str, functions: tuple[str, ...], feature: str
) -> Callable[..., Any]:
    """Like :func:`analytic`, trying several module-level names (the first that exists wins)."""
    bound = getattr(project, method, None)
    if callable(bound):
        return bound
    for name in functions:
        try:
            return analytic(project, method, module, name, feature)
        except NotAvailable:
            continue
    raise NotAvailable(feature, f"neither Project.{method} nor {module}.{'/'.join(functions)} exists yet.")


def overview(project: Project, filters: Filters) -> Report:
    """The north star, its trend, why it moved (driver-tree decomposition) and alignment warnings."""
    card, left_out = scorecard_object(project, "joint", filters)
    report = Report(page="overview", title="Overview")
    frame = scorecard_frame(project, card, filters)
    report.notices.extend([*left_out_notice(card, left_out), *getattr(card, "notices", ())])
    star = card.north_star
    star_rows = frame[frame["kpi"] == star] if star else frame.iloc[0:0]
    report.add("north_star", "North star", star_rows.reset_index(drop=True))
    charts: list[dict[str, Any]] = []
    try:
        row = card.row(star) if star else None
    except RevalignError:
        row = None
    if row is not None:
        trend = pd.DataFrame({"period": list(row.trend_periods), "value": list(row.trend)})
        report.add("north_star_trend", f"{row.label} by {card.grain}", trend)
        charts.append(
            {"table": "north_star_trend", "x": "period", "y": "value", "kind": "line", "title": f"{row.label} trend"}
        )
    status = card.department_status()
    report.add(
        "department_status", "Departments", pd.DataFrame({"department": list(status), "status": list(status.values())})
    )
    try:
        decompose = first_analytic(
            project,
            "decompose",
            "revalign.analytics.governance.decomposition",
            ("evaluate_decomposition",),
            "The driver-tree decomposition",
        )
        dec = decompose(end=card.period, grain=card.grain)
        tree = as_frame(project, dec)
        keep = [
            c
            for c in (
                "kpi",
                "label",
                "department",
                "level",
                "value_from",
                "value_to",
                "change",
                "contribution",
                "contribution_pct",
                "kind",
                "is_leaf",
            )
            if c in tree.columns
        ]
        report.add(
            "driver_tree",
            f"Why {getattr(dec, 'label', star)} moved "
            f"({getattr(dec, 'period_from', '')} → {getattr(dec, 'period_to', '')})",
            tree[keep],
        )
        charts.append(
            {
                "table": "driver_tree",
                "x": "label",
                "y": "contribution",
                "kind": "bar",
                "title": "Contribution to the north star's change",
                "where": {"is_leaf": True},
            }
        )
        summary = getattr(dec, "summary", None)
        if callable(summary):
            report.meta["decomposition_summary"] = summary()
    except NotAvailable as exc:
        report.notices.append(str(exc))
    try:
        align = first_analytic(
            project, "alignment", "revalign.analytics.governance.alignment", ("evaluate_alignment",), "Alignment"
        )
        findings = align(period=card.period, grain=card.grain, card=card)
    except NotAvailable:
        findings = library("revalign.analytics.governance.alignment", "alignment_findings", "Alignment warnings")(card)
    found = as_frame(project, findings)
    report.add("alignment", "Alignment warnings", found)
    report.meta.update(
        period=card.period,
        grain=card.grain,
        north_star=star,
        warnings=[f.message for f in getattr(findings, "findings", ())],
        headline="north_star",
        drill={"north_star": {"columns": ["actual"]}},
        charts=charts,
    )
    return report


def funnel(project: Project, filters: Filters) -> Report:
    """The lead-to-customer funnel (cohort mode): step counts, conversion rates and days between steps."""
    run = library("revalign.analytics.funnel", "funnel", "The funnel")
    require_data(project, "The funnel")
    by = tuple(d for d in (filters.by,) if d)
    kwargs: dict[str, Any] = {"mode": "cohort", "grain": filters.grain, "by": by, **period_kwargs(filters)}
    if filters.segment:
        kwargs["filters"] = {"segment": [filters.segment]}
    result = run(project, "lead_to_customer", **kwargs)
    report = Report(page="funnel", title="Funnel: lead to customer")
    steps = as_frame(project, result)
    if filters.grain is None and not by:
        totals = steps
    else:
        totals_fn = getattr(result, "totals", None)
        totals = totals_fn() if callable(totals_fn) else steps
    report.add("totals", "All cohorts", totals.reset_index(drop=True))
    if filters.grain is not None or by:
        report.add("steps", "By cohort" + (f" and {', '.join(by)}" if by else ""), steps.reset_index(drop=True))
    report.meta.update(
        funnel=getattr(result, "funnel", "lead_to_customer"),
        mode=getattr(result, "mode", "cohort"),
        charts=[
            {"table": "totals", "x": "step", "y": "converted", "kind": "bar", "title": "Entities reaching each step"}
        ],
    )
    return report


def channels(project: Project, filters: Filters) -> Report:
    """Channel productivity: spend, leads, pipeline, revenue and efficiency ratios per channel (or campaign)."""
    run = library("revalign.analytics.channels", "channel_productivity", "Channel productivity")
    require_data(project, "Channel productivity")
    by = ("campaign_id",) if filters.by in ("campaign", "campaign_id") else ("channel",)
    report = Report(page="channels", title="Channels")
    for mode in ("sourced", "influenced"):
        frame = as_frame(project, run(project, by=by, attribution=mode, **period_kwargs(filters)))
        report.add(mode, f"{mode.capitalize()} by {by[0].replace('_id', '')}", frame)
    frame = report.tables["sourced"][1]
    value = next((c for c in ("revenue", "pipeline", "leads") if c in frame.columns), None)
    if value:
        report.meta["charts"] = [
            {"table": "sourced", "x": by[0], "y": value, "kind": "bar", "title": f"Sourced {value} by {by[0]}"}
        ]
    if filters.segment:
        report.notices.append("Channel productivity covers every segment (the segment filter does not apply here).")
    return report


PAGE_MODELS = ("first_touch", "last_touch", "linear", "position_based", "w_shaped", "time_decay", "markov")
"""Models compared on the page by default: the rule models people know plus first-order Markov (the others are
available with ``models=``; all thirteen at once take minutes on a busy machine)."""


def attribution(project: Project, filters: Filters, models: tuple[str, ...] = PAGE_MODELS) -> Report:
    """Revenue and conversions credited to each channel by each attribution model, side by side."""
    run = library("revalign.analytics.attribution", "attribution_comparison", "Attribution")
    require_data(project, "Attribution")
    if not project.engine.has_table("touchpoints"):
        raise NotAvailable("Attribution", "this project has no touchpoints loaded.")
    by = filters.by if filters.by in ("channel", "campaign") else "channel"
    frame = as_frame(project, run(project, by=by, models=list(models), **period_kwargs(filters)))
    report = Report(page="attribution", title="Attribution comparison")
    report.add("comparison", f"Credit by model and {by}", frame)
    key = by if by in frame.columns else "key"
    report.meta["charts"] = [
        {
            "table": "comparison",
            "x": key,
            "y": "revenue",
            "color": "model",
            "kind": "bar",
            "title": f"Credited revenue by {by} and model",
        }
    ]
    if filters.segment:
        report.notices.append("Attribution is computed over all segments (the segment filter does not apply here).")
    return report
