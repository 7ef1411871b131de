"""Credit as audited: the canonical tables with the credit-gaming that the audit found undone.

A rep who overwrites a marketing lead's source, or closes it as "no opportunity" and re-creates the same person
as their own lead, moves the deal's credit from marketing to sales. Every number that reads ``lead_source`` (the
KPI catalog's ``channel``, channel productivity, attribution's fallback) then credits the wrong team. Given the
audit's findings and the reviewers' decisions, :class:`AuditedTables` serves the same tables *as audited*:

- ``lead_source_overwrite`` — the lead (or opportunity) gets back the source it had before the change
  (``channel_from``), and so does the finding's opportunity;
- ``no_opportunity_recreate`` — the re-created lead (``entity_id``) is credited to the original lead's source
  (``related_id``, itself as audited; ``channel_from`` when the original lead is not in the tables), and the
  original lead's touchpoints are served as the re-created lead's too: it is the same person's journey, so
  first-touch channel credit and attribution see the marketing touches the re-creation hid;
- an opportunity of a restored lead that carries the lead's false source (the value the lead had as recorded)
  takes the lead's audited source.

Every other table is served unchanged. Because it is a :class:`~revalign.model.access.Tables`, KPI queries,
channel productivity and attribution compute "as audited" with no change of their own, on every engine (the
corrections are a small in-memory table joined on the engine).

**Which findings count.** By default (``counted="not_dismissed"``) every headline finding a reviewer has not
dismissed: open and confirmed. The detectors are tuned for precision ≥ 0.95 on these two kinds, so an
unreviewed finding is far more often right than wrong, and waiting for review would leave the audited number
equal to the recorded one on a fresh project, hiding exactly what the audit exists to show. A finance close or a
commission dispute that must rest on reviewed facts only passes ``counted="confirmed"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.audit.findings import FINDING_COLUMNS, HEADLINE_KINDS
from revalign.definitions.kpis.catalog import Catalog
from revalign.errors import ConfigError
from revalign.kpis.query import KpiQuery
from revalign.model.access import Tables

Credit = Literal["recorded", "audited"]
"""How numbers credit channels: as the CRM records them, or with the audit's findings undone."""
Counted = Literal["not_dismissed", "confirmed"]
"""Which headline findings audited credit undoes: open and confirmed ones, or confirmed ones only."""
CREDITS: Final = ("recorded", "audited")
COUNTED: Final = ("not_dismissed", "confirmed")
DEFAULT_COUNTED: Final[Counted] = "not_dismissed"
STATUSES: Final = ("open", "confirmed", "dismissed")
"""A finding's review status: open until a reviewer confirms or dismisses it."""
MARKETING_KPIS: Final = ("marketing_sourced_revenue", "marketing_sourced_pipeline", "new_revenue")
"""The KPIs the recorded-vs-audited headline compares by default (new revenue, which the audit never moves, is
the yardstick: marketing's share of it is what changes)."""

_S = dt.String(nullable=True)


def finding_statuses(findings: pd.DataFrame, decisions: Mapping[str, str] | None = None) -> pd.Series:
    """Each finding's review status (index aligned with ``findings``): the decision on its id, else ``open``."""
    decided = dict(decisions or {})
    bad = sorted({s for s in decided.values() if s not in STATUSES})
    if bad:
        raise ConfigError(f"a finding's status must be one of {', '.join(STATUSES)}. Got {bad!r} instead.")
    ids = findings["finding_id"].astype("string") if "finding_id" in findings else pd.Series([], dtype="string")
    return ids.map(lambda i: decided.get(str(i), "open")).astype("string")


def counted_findings(
    findings: pd.DataFrame, decisions: Mapping[str, str] | None = None, *, counted: Counted = DEFAULT_COUNTED
) -> pd.DataFrame:
    """The headline findings audited credit undoes: not dismissed (default) or only confirmed; see the module."""
    if counted not in COUNTED:
        raise ConfigError(f"counted must be one of {', '.join(COUNTED)}. Got {counted!r} instead.")
    missing = [
        c for c in ("finding_id", "kind", "entity_type", "entity_id", "related_id", "channel_from") if c not in findings
    ]
    if missing:
        raise ConfigError(
            f"findings lack column(s) {', '.join(missing)}; a findings table has {', '.join(FINDING_COLUMNS)}."
        )
    status = finding_statuses(findings, decisions)
    keep = findings["kind"].isin(HEADLINE_KINDS) & (
        status == "confirmed" if counted == "confirmed" else status != "dismissed"
    )
    return findings[keep.to_numpy(dtype=bool)]


@dataclass(frozen=True)
class Corrections:
    """What audited credit changes, as three small frames (one row per record, duplicates resolved).

    ``leads``: lead_id → the source it had before an overwrite; ``recreations``: re-created lead_id → the
    original lead and the finding's ``channel_from`` (used when the original lead is unknown);
    ``opportunities``: opportunity_id → the source before an overwrite.
    """

    leads: pd.DataFrame
    recreations: pd.DataFrame
    opportunities: pd.DataFrame

    @property
    def empty(self) -> bool:
        return self.leads.empty and self.recreations.empty and self.opportunities.empty

    def fingerprint(self) -> str:
        """A short hash of the corrections, so cached results as audited are never mistaken for others."""
        text = "|".join(
            f.sort_values(list(f.columns)).to_csv(index=False)
            for f in (self.leads, self.recreations, self.opportunities)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _first(frame: pd.DataFrame, key: str, columns: dict[str, str]) -> pd.DataFrame:
    """One row per ``key`` (the earliest finding's: its ``channel_from`` is the source before any change)."""
    frame = frame[frame[key].notna()]
    frame = (
        frame.sort_values(["occurred_at", "finding_id"], kind="stable", na_position="last")
        if "occurred_at" in frame
        else frame
    )
    out = frame.drop_duplicates(key)[list(columns)].rename(columns=columns)
    return out.astype("string").reset_index(drop=True)


def credit_corrections(
    findings: pd.DataFrame, decisions: Mapping[str, str] | None = None, *, counted: Counted = DEFAULT_COUNTED
) -> Corrections:
    """The :class:`Corrections` the counted headline findings call for (see :func:`counted_findings`)."""
    f = counted_findings(findings, decisions, counted=counted)
    rec = f[f["kind"] == "no_opportunity_recreate"]
    ow = f[(f["kind"] == "lead_source_overwrite") & f["channel_from"].notna()]
    recreated = set(rec["entity_id"].dropna())  # a re-created lead's credit follows its original, not an overwrite
    ow_leads = ow[(ow["entity_type"] == "lead") & ~ow["entity_id"].isin(recreated)]
    ow_opps = pd.concat(
        [
            ow.loc[ow["entity_type"] == "opportunity", ["finding_id", "occurred_at", "entity_id", "channel_from"]],
            ow.loc[:, ["finding_id", "occurred_at", "opportunity_id", "channel_from"]].rename(
                columns={"opportunity_id": "entity_id"}
            )
            if "opportunity_id" in ow
            else pd.DataFrame(columns=["finding_id", "occurred_at", "entity_id", "channel_from"]),
        ],
        ignore_index=True,
    )
    return Corrections(
        leads=_first(ow_leads, "entity_id", {"entity_id": "lead_id", "channel_from": "source"}),
        recreations=_first(
            rec, "entity_id", {"entity_id": "lead_id", "related_id": "original_lead_id", "channel_from": "source"}
        ),
        opportunities=_first(ow_opps, "entity_id", {"entity_id": "opportunity_id", "channel_from": "source"}),
    )


def _memtable(frame: pd.DataFrame, columns: Iterable[str]) -> ir.Table:
    cols = list(columns)
    return ibis.memtable(frame[cols].astype(object).where(frame[cols].notna(), None), schema={c: _S for c in cols})


def _lead_fixes(leads: ir.Table, c: Corrections) -> ir.Table:
    """``lead_id, recorded, audited`` for every lead whose source audited credit changes."""
    rec = leads.select(r_id=leads.lead_id.cast(_S), recorded=leads.lead_source.cast(_S))
    ow = _memtable(c.leads, ("lead_id", "source"))
    overwritten = ow.join(rec, ow.lead_id == rec.r_id).select(
        lead_id=ow.lead_id, recorded=rec.recorded, audited=ow.source
    )
    rc = _memtable(c.recreations, ("lead_id", "original_lead_id", "source"))
    orig = rec.left_join(ow, rec.r_id == ow.lead_id).select(o_id=rec.r_id, o_src=ibis.coalesce(ow.source, rec.recorded))
    j = rc.join(rec, rc.lead_id == rec.r_id).left_join(orig, rc.original_lead_id == orig.o_id)
    recreated = j.select(lead_id=j.lead_id, recorded=j.recorded, audited=ibis.coalesce(j.o_src, j.source))
    return ibis.union(overwritten, recreated)


def audited_leads(leads: ir.Table, c: Corrections) -> ir.Table:
    """``leads`` with every corrected lead's source as audited (same columns, same rows)."""
    fixes = _lead_fixes(leads, c)
    fixes = fixes.select(f_id=fixes.lead_id, f_src=fixes.audited)
    j = leads.left_join(fixes, leads.lead_id.cast(_S) == fixes.f_id)
    return j.mutate(lead_source=ibis.coalesce(j.f_src, j.lead_source.cast(_S))).select(*leads.columns)


def audited_opportunities(opportunities: ir.Table, leads: ir.Table, c: Corrections) -> ir.Table:
    """``opportunities`` with sources as audited: an overwritten opportunity's own source back, else its lead's
    audited source when it carries the lead's false one (same columns, same rows)."""
    fixes = _lead_fixes(leads, c)
    fixes = fixes.select(f_id=fixes.lead_id, f_rec=fixes.recorded, f_src=fixes.audited)
    direct = _memtable(c.opportunities, ("opportunity_id", "source"))
    direct = direct.select(d_id=direct.opportunity_id, d_src=direct.source)
    o = opportunities
    j = o.left_join(
        fixes, (o.lead_id.cast(_S) == fixes.f_id) & (o.lead_source.cast(_S).fill_null("") == fixes.f_rec.fill_null(""))
    )
    j = j.left_join(direct, j.opportunity_id.cast(_S) == direct.d_id)
    return j.mutate(lead_source=ibis.coalesce(j.d_src, j.f_src, j.lead_source.cast(_S))).select(*o.columns)


def audited_touchpoints(touchpoints: ir.Table, c: Corrections) -> ir.Table:
    """``touchpoints`` plus, for each re-created lead, its original lead's touchpoints under the re-created lead's
    id (``touchpoint_id`` suffixed ``@<lead>`` so ids stay unique): one person, one journey."""
    if c.recreations.empty:
        return touchpoints
    rc = _memtable(c.recreations, ("lead_id", "original_lead_id"))
    t = touchpoints
    j = t.join(rc, t.lead_id.cast(_S) == rc.original_lead_id)
    copies = j.mutate(
        touchpoint_id=(j.touchpoint_id.cast(_S) + ibis.literal("@") + j.lead_id_right).cast(t.touchpoint_id.type()),
        lead_id=j.lead_id_right.cast(t.lead_id.type()),
    ).select(*t.columns)
    return ibis.union(t, copies.cast(t.schema()))


def _serve(name: str, get: Callable[[str], ir.Table], c: Corrections) -> ir.Table:
    if c.empty:
        return get(name)
    if name == "leads":
        return audited_leads(get("leads"), c)
    if name == "opportunities":
        return audited_opportunities(get("opportunities"), get("leads"), c)
    if name == "touchpoints":
        return audited_touchpoints(get("touchpoints"), c)
    return get(name)


class AuditedTables(Tables):
    """The canonical tables as audited (see the module docstring): a drop-in :class:`Tables` for any analytic."""

    def __init__(self, base: Tables, corrections: Corrections) -> None:
        super().__init__(base.engine)
        self.base, self.corrections = base, corrections

    def __repr__(self) -> str:
        return f"<AuditedTables on {self.engine!r}>"

    def table(self, name: str) -> ir.Table:
        return _serve(name, self.base.table, self.corrections)

    def provider(self) -> Callable[[str], ir.Table]:
        base = self.base.provider()
        return lambda name: _serve(name, base, self.corrections)

    def schema_version(self) -> None:
        """``None``: the corrections are data inside the expressions, so their compiled SQL is never reused."""
        return None

    def data_version(self) -> str:
        """The base tables' version and the corrections' fingerprint: a decision changes what is cached."""
        return f"{self.base.data_version()}:audited:{self.corrections.fingerprint()}"


def audited_tables(
    tables: Tables,
    findings: pd.DataFrame,
    decisions: Mapping[str, str] | None = None,
    *,
    counted: Counted = DEFAULT_COUNTED,
) -> AuditedTables:
    """``tables`` as audited under ``findings`` (a :data:`FINDING_COLUMNS` frame) and reviewers' ``decisions``
    (finding_id → open / confirmed / dismissed)."""
    return AuditedTables(tables, credit_corrections(findings, decisions, counted=counted))


def credit_comparison(
    recorded: Tables,
    audited: Tables,
    catalog: Catalog,
    kpis: Iterable[str] = MARKETING_KPIS,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    fiscal_year_start_month: int = 1,
) -> pd.DataFrame:
    """``kpi, recorded, audited, difference`` over ``[start, end)`` (one all-period value each): "marketing-sourced
    revenue in 2025 is $X as recorded, $Y as audited". Dates are half-open, period labels (``2025``, ``2025-Q1``)
    inclusive, as in :meth:`KpiQuery.period`. A KPI with no value in the period is 0."""
    names = tuple(kpis)

    def values(tables: Tables) -> pd.Series:
        q = KpiQuery(catalog, tables, names, fiscal_year_start_month).grain("all")
        q = q.period(start, end)
        frame = q.to_pandas()
        return frame.groupby("kpi")["value"].sum().reindex(list(names)).fillna(0.0).astype("float64")

    rec, aud = values(recorded), values(audited)
    out = pd.DataFrame({"kpi": list(names), "recorded": rec.to_numpy(), "audited": aud.to_numpy()})
    out["difference"] = out["audited"] - out["recorded"]
    return out


__all__ = [
    "COUNTED",
    "CREDITS",
    "DEFAULT_COUNTED",
    "MARKETING_KPIS",
    "STATUSES",
    "AuditedTables",
    "Corrections",
    "Counted",
    "Credit",
    "audited_leads",
    "audited_opportunities",
    "audited_tables",
    "audited_touchpoints",
    "counted_findings",
    "credit_comparison",
    "credit_corrections",
    "finding_statuses",
]
