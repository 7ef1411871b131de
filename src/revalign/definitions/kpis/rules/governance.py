"""Rules about governance: owners, directions, units, the north-star tree, targets and revisions."""

from __future__ import annotations

import re
from collections.abc import Iterator

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.rules.base import Rule
from revalign.definitions.kpis.spec import DIRECTIONS, TIMINGS, UNITS, Kpi
from revalign.model import calendar
from revalign.model.tables import DEPARTMENTS


class GovernanceKeysRule(Rule):
    """direction, timing, unit, owner, department and description are present and valid; owners exist."""

    name = "governance"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        allowed = {"direction": DIRECTIONS, "timing": TIMINGS, "unit": UNITS, "department": DEPARTMENTS}
        for kpi in catalog.kpis.values():
            for key, values in allowed.items():
                value = getattr(kpi, key)
                if value is None:
                    yield self.issue(kpi, f"{key} is required (one of {', '.join(values)})", kpi=kpi.name)
                elif value not in values:
                    yield self.issue(
                        kpi, f"{key} must be one of {', '.join(values)}. Got {value!r} instead.", key=key, kpi=kpi.name
                    )
            if not kpi.owner:
                yield self.issue(kpi, "owner is required (a person or role id from people.yaml)", kpi=kpi.name)
            elif catalog.people and kpi.owner not in catalog.people:
                yield self.issue(
                    kpi,
                    f"owner {kpi.owner!r} is not in people.yaml (known: {', '.join(sorted(catalog.people))})",
                    key="owner",
                    kpi=kpi.name,
                )
            if not kpi.description.strip():
                yield self.issue(kpi, "description is empty: the glossary needs it", kpi=kpi.name, level=Level.WARNING)


class UnitCompatibilityRule(Rule):
    """A ratio's unit follows from its inputs: a percent of like over like; a currency per count; …"""

    name = "units"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            if kpi.type != "ratio" or kpi.numerator is None or kpi.denominator is None:
                continue
            num = catalog.kpis.get(kpi.numerator.name)
            den = catalog.kpis.get(kpi.denominator.name)
            if num is None or den is None or not num.unit or not den.unit:
                continue
            countish = {"count", "people"}
            problem = None
            if kpi.unit in ("percent", "ratio") and num.unit != den.unit and not {num.unit, den.unit} <= countish:
                problem = f"a {kpi.unit} of {num.unit} over {den.unit} mixes units"
            elif kpi.unit == "currency" and not (num.unit == "currency" and den.unit in countish):
                problem = f"a currency ratio needs currency over a count; got {num.unit} over {den.unit}"
            elif num.unit == "percent" or den.unit == "percent":
                problem = "a ratio of percentages is not a rate of anything; use a derived KPI"
            if problem:
                yield self.issue(
                    kpi,
                    f"incompatible units: {problem} ({num.name} / {den.name}); fix the unit or the inputs",
                    key="unit",
                    kpi=kpi.name,
                )


class NorthStarTreeRule(Rule):
    """Exactly one north star; every other KPI has a parent that exists, with no cycle, reaching the north star."""

    name = "north_star_tree"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        stars = [k for k in catalog.kpis.values() if k.north_star]
        if len(stars) != 1:
            where = stars[1] if len(stars) > 1 else next(iter(catalog.kpis.values()), None)
            msg = (
                f"exactly one KPI must be the north star; found {len(stars)}"
                f"{' (' + ', '.join(k.name for k in stars) + ')' if stars else ''}"
            )
            if where is not None:
                yield self.issue(where, msg, key="north_star", kpi=where.name)
        star = stars[0].name if len(stars) == 1 else None
        for kpi in catalog.kpis.values():
            if kpi.north_star:
                if kpi.parent:
                    yield self.issue(kpi, "the north star cannot have a parent", key="parent", kpi=kpi.name)
                continue
            if not kpi.parent:
                yield self.issue(kpi, "orphan: no parent in the driver tree (set parent: <kpi>)", kpi=kpi.name)
                continue
            if kpi.parent not in catalog.kpis:
                yield self.issue(kpi, f"orphan: parent {kpi.parent!r} is not a KPI", key="parent", kpi=kpi.name)
                continue
            chain, cur = [kpi.name], catalog.kpis.get(kpi.parent)
            while cur is not None and cur.name not in chain:
                chain.append(cur.name)
                cur = catalog.kpis.get(cur.parent) if cur.parent else None
            if cur is not None:
                yield self.issue(
                    kpi, f"cycle in the driver tree: {' → '.join([*chain, cur.name])}", key="parent", kpi=kpi.name
                )
            elif star is not None and chain[-1] != star:
                yield self.issue(
                    kpi,
                    f"orphan: its parent chain {' → '.join(chain)} does not reach the north star {star!r}",
                    key="parent",
                    kpi=kpi.name,
                )


class InputCycleRule(Rule):
    """KPIs computed from other KPIs (ratio, derived, cumulative, conversion) never depend on themselves."""

    name = "input_cycles"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        reported: set[frozenset[str]] = set()
        for kpi in catalog.kpis.values():
            path = self._cycle(catalog, kpi.name, [kpi.name])
            if path and frozenset(path) not in reported:
                reported.add(frozenset(path))
                yield self.issue(kpi, f"reference cycle: {' → '.join(path)}", kpi=kpi.name)

    def _cycle(self, catalog: CatalogContents, name: str, path: list[str]) -> list[str] | None:
        kpi = catalog.kpis.get(name)
        for inp in kpi.inputs if kpi else []:
            if inp.name == path[0]:
                return [*path, inp.name]
            if inp.name not in path:
                found = self._cycle(catalog, inp.name, [*path, inp.name])
                if found:
                    return found
        return None


class TargetRule(Rule):
    """Targets name a readable period and lie inside the KPI's range (a percent between 0 and 1)."""

    name = "targets"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            lo, hi = kpi.value_range
            for target in kpi.targets:
                try:
                    calendar.parse_period(target.period)
                except ValueError as exc:
                    yield self.issue(target, str(exc), kpi=kpi.name)
                if (lo is not None and target.value < lo) or (hi is not None and target.value > hi):
                    yield self.issue(
                        target,
                        f"target {target.value} for {target.period} is outside the range of {kpi.name} "
                        f"({_fmt(lo)}..{_fmt(hi)}, unit {kpi.unit}); a percent is written as a fraction (0.25)",
                        kpi=kpi.name,
                    )


def _fmt(v: float | None) -> str:
    return "" if v is None else f"{v:g}"


class RevisionRule(Rule):
    """Revision dates increase, and ``previous`` only overrides definition keys."""

    name = "revisions"
    DEFINITION_KEYS = (
        "filter", "expr", "agg", "semantic_model", "measure", "numerator", "denominator", "input_metrics",
        "input_metric", "window", "grain_to_date", "period_agg", "entity", "base_metric", "conversion_metric",
        "percentile", "agg_time_dimension", "calculation", "constant_properties",
    )  # fmt: skip

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            last = None
            for rev in kpi.revisions:
                if last is not None and rev.effective_from <= last:
                    yield self.issue(
                        rev,
                        f"revision dates must increase: {rev.effective_from} comes after {last}",
                        key="effective_from",
                        kpi=kpi.name,
                    )
                last = rev.effective_from
                for key in rev.previous:
                    if key not in self.DEFINITION_KEYS:
                        yield self.issue(
                            rev,
                            f"previous.{key} is not a definition key; revisions may change: "
                            f"{', '.join(self.DEFINITION_KEYS)}",
                            key="previous",
                            kpi=kpi.name,
                        )
                if rev.previous:
                    try:
                        Kpi.model_validate(kpi.model_dump(exclude={"revisions"}) | rev.previous)
                    except Exception as exc:
                        yield self.issue(rev, f"previous definition is invalid: {exc}", key="previous", kpi=kpi.name)


_DIMENSION_REF = re.compile(r"\{\{\s*Dimension\('(?:\w+__)?(\w+)'\)\s*\}\}")


def _rows_key(kpi: Kpi) -> tuple[str | None, str]:
    """Which rows a simple KPI counts: its model and its filter, spelled one way (``{{ Dimension('o__x') }}`` → x)."""
    text = _DIMENSION_REF.sub(r"\1", kpi.filter or "")
    return kpi.semantic_model, " ".join(text.split())


class RevisionAlignmentRule(Rule):
    """A ratio whose numerator and denominator count the same rows changes definition on the same dates for both.

    ``average_deal_size = new_revenue / deals_won`` once read "revenue including renewals" over "new-business deals"
    for every period before new_revenue's revision: 600 where 100 was right. Two inputs counting the same rows
    must be revised together (or the ratio defined on its own), else periods before the revision mix definitions.
    """

    name = "revision_alignment"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for kpi in catalog.kpis.values():
            if kpi.type != "ratio" or not kpi.numerator or not kpi.denominator:
                continue
            num, den = catalog.kpis.get(kpi.numerator.name), catalog.kpis.get(kpi.denominator.name)
            if num is None or den is None or not num.semantic_model or _rows_key(num) != _rows_key(den):
                continue  # different rows (complete leads over all leads): one may be revised alone
            a, b = num.revision_boundaries(), den.revision_boundaries()
            if a != b:
                dates = ", ".join(sorted({d.isoformat() for d in (*a, *b)}))
                yield self.issue(
                    kpi,
                    f"numerator {num.name} and denominator {den.name} read the same rows but are revised on different "
                    f"dates ({dates}): before then the ratio divides one definition by another. Revise both, or "
                    "define this KPI on its own.",
                    key="numerator",
                    kpi=kpi.name,
                    level=Level.WARNING,
                )
