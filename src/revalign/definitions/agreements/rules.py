"""The agreement's rules, one small class each, run by :func:`revalign.definitions.validate.run_rules`.

Every rule looks at the whole set of versions (an :class:`AgreementSet`) because some problems are between
versions (two versions with one number, dates that go backwards) and the rest are per version.
"""

from __future__ import annotations

import functools
import itertools
import zoneinfo
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import holidays

from revalign.definitions.agreements.spec import AgreementSpec, SlaSpec
from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.windows import parse_window
from revalign.definitions.validate import Rule

_DAY_SECONDS = {"day": 86400, "week": 7 * 86400}


@dataclass(frozen=True)
class AgreementSet:
    """Every agreement version read, with each one's lines (``(sla name or key) → line``) for messages."""

    versions: Sequence[AgreementSpec]
    lines: Mapping[tuple[str, int, str], int] = field(default_factory=dict)

    def line(self, spec: AgreementSpec, key: str) -> int | None:
        return self.lines.get((spec.agreement, spec.version, key), self.lines.get((spec.agreement, spec.version, "")))


def _issue(
    subject: AgreementSet, spec: AgreementSpec, key: str, rule: str, message: str, level: Level = Level.ERROR
) -> Issue:
    return Issue(
        level,
        message,
        file=spec.file,
        line=subject.line(spec, key),
        subject=f"{spec.agreement} v{spec.version}",
        rule=rule,
        kind="agreement",
    )


class SignatoriesRule(Rule[AgreementSet]):
    """Both the marketing and the sales leader sign (RevOps and CS may sign too), each role once."""

    name = "signatories"

    def check(self, subject: AgreementSet) -> Iterable[Issue]:
        for spec in subject.versions:
            roles = [s.role for s in spec.signatories]
            missing = [r for r in ("marketing", "sales") if r not in roles]
            if missing:
                yield _issue(subject, spec, "signatories", self.name, f"no {' or '.join(missing)} signatory")
            twice = sorted({r for r in roles if roles.count(r) > 1})
            if twice:
                yield _issue(subject, spec, "signatories", self.name, f"role signs twice: {', '.join(twice)}")


class VersionsRule(Rule[AgreementSet]):
    """Versions of one agreement have distinct numbers, and a later version takes effect later."""

    name = "versions"

    def check(self, subject: AgreementSet) -> Iterable[Issue]:
        by_name: dict[str, list[AgreementSpec]] = {}
        for spec in subject.versions:
            by_name.setdefault(spec.agreement, []).append(spec)
        for specs in by_name.values():
            specs = sorted(specs, key=lambda s: s.version)
            for a, b in itertools.pairwise(specs):
                if a.version == b.version:
                    yield _issue(subject, b, "version", self.name, f"version {b.version} is defined twice")
                elif b.effective_from <= a.effective_from:
                    message = (
                        f"version {b.version} takes effect {b.effective_from}, not after version {a.version} "
                        f"({a.effective_from})"
                    )
                    yield _issue(subject, b, "effective_from", self.name, message)


class SlaNamesRule(Rule[AgreementSet]):
    """SLA names are unique within a version."""

    name = "sla_names"

    def check(self, subject: AgreementSet) -> Iterable[Issue]:
        for spec in subject.versions:
            names = [s.name for s in spec.slas]
            for name in sorted({n for n in names if names.count(n) > 1}):
                yield _issue(subject, spec, name, self.name, f"SLA {name!r} is defined twice")


class CalendarsRule(Rule[AgreementSet]):
    """Every calendar an SLA or a team names exists; business time needs a calendar; zones and countries exist."""

    name = "calendars"

    def check(self, subject: AgreementSet) -> Iterable[Issue]:
        for spec in subject.versions:
            yield from self._calendars(subject, spec)
            for sla in spec.slas:
                yield from self._sla(subject, spec, sla)
            for team, cal in spec.teams.items():
                if cal not in spec.calendars:
                    yield _issue(subject, spec, "teams", self.name, f"team {team!r} uses unknown calendar {cal!r}")

    def _calendars(self, subject: AgreementSet, spec: AgreementSpec) -> Iterable[Issue]:
        countries = _countries()
        for name, cal in spec.calendars.items():
            if cal.timezone not in _time_zones():
                yield _issue(
                    subject, spec, "calendars", self.name, f"calendar {name!r}: unknown time zone {cal.timezone!r}"
                )
            source = cal.holidays
            if source is not None and source.country not in countries:
                yield _issue(
                    subject, spec, "calendars", self.name, f"calendar {name!r}: no holidays for {source.country!r}"
                )
            elif source is not None and source.subdivision and source.subdivision not in countries[source.country]:
                message = f"calendar {name!r}: {source.country} has no subdivision {source.subdivision!r}"
                yield _issue(subject, spec, "calendars", self.name, message)

    def _sla(self, subject: AgreementSet, spec: AgreementSpec, sla: SlaSpec) -> Iterable[Issue]:
        if sla.within is not None and sla.within.business and sla.calendar is None:
            message = f"SLA {sla.name!r} counts business time ({sla.within.text}) but names no calendar"
            yield _issue(subject, spec, sla.name, self.name, message)
        wanted = "default" if sla.calendar == "team" else sla.calendar
        if wanted is not None and wanted not in spec.calendars:
            yield _issue(subject, spec, sla.name, self.name, f"SLA {sla.name!r} uses unknown calendar {wanted!r}")


class KpisRule(Rule[AgreementSet]):
    """Shared KPIs and SLA KPIs exist in the catalog; a clock's tied KPI counts the same allowance.

    The catalog's compliance KPIs are conversions with a calendar ``window``; the SLA that names one with ``kpi:``
    is where the threshold is agreed, so a window that differs from the SLA's continuous allowance is an error
    (and a business-time SLA cannot be a calendar window at all: the KPI is then only an approximation, a warning).
    """

    name = "kpis"

    def __init__(self, windows: Mapping[str, str | None]) -> None:
        self.windows = windows  # catalog KPI name → its conversion window (None for other KPIs)

    def check(self, subject: AgreementSet) -> Iterable[Issue]:
        for spec in subject.versions:
            named = [(k.kpi, "kpis") for k in spec.kpis] + [(s.kpi, s.name) for s in spec.slas if s.kpi]
            for kpi, key in named:
                if kpi not in self.windows:
                    yield _issue(subject, spec, key, self.name, f"unknown KPI {kpi!r}")
            for sla in spec.slas:
                yield from self._tie(subject, spec, sla)

    def _tie(self, subject: AgreementSet, spec: AgreementSpec, sla: SlaSpec) -> Iterable[Issue]:
        window = self.windows.get(sla.kpi or "")
        if sla.type != "clock" or sla.within is None or window is None:
            return
        if sla.within.business:
            message = (
                f"SLA {sla.name!r} counts business time but KPI {sla.kpi!r} counts a calendar window ({window}); "
                "the KPI is only an approximation of the SLA's compliance"
            )
            yield _issue(subject, spec, sla.name, self.name, message, Level.WARNING)
            return
        count, unit = parse_window(window)
        seconds = count * _DAY_SECONDS.get(unit, 0)
        if seconds != sla.within.seconds:
            message = (
                f"SLA {sla.name!r} allows {sla.within.text} but KPI {sla.kpi!r} counts a {window} window: "
                "the threshold must live in one place (change the KPI's window to match the agreement)"
            )
            yield _issue(subject, spec, sla.name, self.name, message)


def agreement_rules(windows: Mapping[str, str | None] | None = None) -> list[Rule[AgreementSet]]:
    """Every rule; the KPI rule only when the catalog's KPIs (name → conversion window) are given."""
    rules: list[Rule[AgreementSet]] = [SignatoriesRule(), VersionsRule(), SlaNamesRule(), CalendarsRule()]
    return rules + ([KpisRule(windows)] if windows is not None else [])


__all__ = ["AgreementSet", "agreement_rules"]


@functools.cache
def _time_zones() -> frozenset[str]:
    """The system's time zone names, read once: listing them walks the tz database (tens of ms per validation)."""
    return frozenset(zoneinfo.available_timezones())


@functools.cache
def _countries() -> dict[str, list[str]]:
    """The holidays library's countries and their subdivisions, built once per process."""
    return holidays.list_supported_countries()
