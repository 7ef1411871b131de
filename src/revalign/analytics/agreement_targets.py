"""⑤ The signed agreement's shared-KPI targets in the project's target book, and where they clash with the files.

The agreement's ``kpis:`` are targets both leaders signed, so the scorecard scores against them (docs/agreements.md,
"Shared KPIs and their targets"). Numbers for a period are computed under the agreement in force then, and so
are targets:

- a target **with a period** (``{kpi: new_revenue, target: 1500000, period: 2026-Q1}``) counts when its version
  is the one in force on the period's first day; a version's target for a period that starts before the version
  takes effect is left out with a warning (the period belongs to the version before);
- a target **without a period** holds for every period that starts while its version is in force (until the
  next counted version's ``effective_from``), at any grain.

Only the versions passed in count: the façade passes the signed ones (see
:meth:`revalign.definitions.agreements.loader.AgreementBook.approved_versions`), so an unsigned version 2 changes
no target. A target file that sets the same KPI × period × slice to another value is an error naming both places
(rule ``agreement``); the agreement's value is the one used, since it is what both sides signed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from revalign.analytics.targets import StandingTarget, TargetBook
from revalign.definitions.agreements.loader import AgreementBook
from revalign.definitions.agreements.spec import AgreementSpec, SharedKpi
from revalign.definitions.issues import Issue, Level
from revalign.definitions.targets import TargetEntry, amount, slice_key
from revalign.model.calendar import parse_period, period_label

RULE = "agreement"


@dataclass
class AgreedTargets:
    """The counted versions' targets: per period (``entries``), standing (``standing``), and their problems."""

    entries: list[TargetEntry] = field(default_factory=list)
    standing: list[StandingTarget] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def _issue(spec: AgreementSpec, where: str, message: str, level: Level = Level.ERROR) -> Issue:
    file, _, line = where.rpartition(":")
    return Issue(
        level,
        message,
        file=file or where,
        line=int(line) if line.isdigit() else None,
        subject=f"{spec.agreement} v{spec.version}",
        rule=RULE,
        kind="agreement",
    )


def _carried(history: Sequence[AgreementSpec], spec: AgreementSpec, kpi: SharedKpi) -> bool:
    """Whether another version sets the same KPI, period and slice (a target carried into the next version is
    that version's to count: no warning for the copy left in the old one)."""
    return any(
        (k.kpi, k.period, k.slice) == (kpi.kpi, kpi.period, kpi.slice)
        for other in history
        if other is not spec
        for k in other.kpis
    )


def _period_target(
    spec: AgreementSpec,
    kpi: SharedKpi,
    until: dt.date | None,
    where: str,
    out: AgreedTargets,
    fs: int,
    *,
    warn: bool = True,
) -> None:
    source = f"agreement {spec.agreement} v{spec.version}"
    try:
        period = parse_period(str(kpi.period), fs)
    except ValueError as exc:
        out.issues.append(_issue(spec, where, f"target of {kpi.kpi}: {exc}"))
        return
    if period.start < spec.effective_from or (until is not None and period.start >= until):
        message = (
            f"the target of {kpi.kpi} for {kpi.period} is not counted: that period starts on {period.start}, "
            f"outside the dates version {spec.version} is in force ({spec.effective_from}"
            f"{f' to {until}' if until else ' on'})"
        )
        if warn:
            out.issues.append(_issue(spec, where, message, Level.WARNING))
        return
    dims = slice_key(kpi.slice)
    out.entries.append(
        TargetEntry(
            kpi.kpi, str(kpi.period), period.grain, period.start, kpi.target, dims, source, f"{source}, {where}"
        )
    )


def agreement_targets(
    book: AgreementBook, known_kpis: Sequence[str], fiscal_year_start_month: int = 1
) -> AgreedTargets:
    """The targets of every version in ``book`` (pass the counted versions only), effective-dated.

    KPIs unknown to the catalog (``known_kpis``) are left out: the agreement's ``kpis`` rule reports them.
    """
    out = AgreedTargets()
    for name in book.names:
        history = book.history(name)
        for i, spec in enumerate(history):
            until = history[i + 1].effective_from if i + 1 < len(history) else None
            for j, kpi in enumerate(spec.kpis):
                if kpi.kpi not in known_kpis:
                    continue
                where = book.where(spec, f"kpis[{j}]")
                if kpi.period is not None:
                    warn = not _carried(history, spec, kpi)
                    _period_target(spec, kpi, until, where, out, fiscal_year_start_month, warn=warn)
                    continue
                source = f"agreement {spec.agreement} v{spec.version}"
                out.standing.append(
                    StandingTarget(
                        kpi.kpi,
                        kpi.target,
                        slice_key(kpi.slice),
                        spec.effective_from,
                        until,
                        source,
                        f"{source}, {where}",
                    )
                )
    return out


def _clash(entry: TargetEntry, value: float, cited: str, fs: int) -> Issue:
    """``cited`` is where the agreement's target is: ``"agreement <name> v<n>, <file>:<line>"``."""
    source, _, where = cited.rpartition(", ")
    label = period_label(entry.start, entry.grain, fs)
    cut = ", ".join(f"{k}={v}" for k, v in entry.dims) or "company-wide"
    message = (
        f"{entry.kpi} in {label} ({cut}) has target {amount(entry.value)} at {entry.where} but "
        f"{amount(value)} in the {source} at {where}: one target per KPI, period and slice — remove it from the "
        "target file or change the agreement (a new version, signed again); the agreement's is used meanwhile."
    )
    file, _, line = where.rpartition(":")
    return Issue(
        Level.ERROR,
        message,
        file=file or where,
        line=int(line) if line.isdigit() else None,
        subject=entry.kpi,
        rule=RULE,
        kind="target",
    )


def _covering(agreed: AgreedTargets, entry: TargetEntry) -> TargetEntry | StandingTarget | None:
    """The counted agreement's target for ``entry``'s KPI × period × slice, if it sets one."""
    exact = next((e for e in agreed.entries if e.key == entry.key), None)
    if exact is not None:
        return exact
    return next(
        (t for t in agreed.standing if t.kpi == entry.kpi and t.dims == entry.dims and t.covers(entry.start)), None
    )


def merged_book(files: TargetBook, agreed: AgreedTargets) -> TargetBook:
    """The target book the scorecard uses: the files' targets, except where the counted agreement sets the same
    KPI × period × slice (the agreement's wins), and the agreement's."""
    kept = [e for e in files.entries if _covering(agreed, e) is None]
    return TargetBook([*kept, *agreed.entries], files.fiscal_year_start_month, [*files.standing, *agreed.standing])


def target_conflicts(
    files: Sequence[TargetEntry], agreed: AgreedTargets, fiscal_year_start_month: int = 1
) -> list[Issue]:
    """Target-file entries that give the same KPI × period × slice another value than the counted agreement."""
    out = []
    for entry in files:
        mine = _covering(agreed, entry)
        if mine is not None and mine.value != entry.value:
            out.append(_clash(entry, mine.value, mine.where, fiscal_year_start_month))
    return out


__all__ = ["RULE", "AgreedTargets", "agreement_targets", "merged_book", "target_conflicts"]
