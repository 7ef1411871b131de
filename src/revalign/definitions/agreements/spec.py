"""The marketing–sales agreement as typed data: the MQL definition, the SLAs, the shared KPIs, who signs.

One file is one *version* of one agreement (``agreements/*.yaml`` in a project). Versions of an agreement share
its ``agreement`` name and differ in ``version`` and ``effective_from``: a number for a period is computed under
the version in force then (:meth:`AgreementBook.in_force`), so raising a threshold in version 2 changes nothing
before version 2's date. The models are strict (unknown keys are errors), so ``withn: 24h`` fails at load time
with file and line instead of silently dropping the deadline.

An SLA is either a **clock** (a start event, a stop event, pause intervals and an allowance ``within`` in
calendar or business time) or a **volume** (a KPI that must reach a number per slice and month, such as MQLs per
segment). Business time runs over a named :class:`CalendarSpec` (working days, hours, holidays, time zone); an
SLA with ``calendar: team`` uses the calendar of the responsible owner's team (``teams:``), falling back to
``default``. A clock without a calendar runs on continuous (24/7) time, like the simulator's SLA.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SIGNATORY_ROLES = ("marketing", "sales", "revops", "customer_success")
_WITHIN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(business\s+)?(minutes?|hours?|days?|weeks?|m|h|d|w)\s*$", re.I)
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_HOURS = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class Within(BaseModel):
    """An allowance: ``amount`` seconds of continuous time, or of business time when ``business``.

    ``"24 business hours"`` is 24 working hours; ``"2 business days"`` is two working days' worth of working
    hours (16 h on a 09:00–17:00 calendar), so every business allowance is one number of working seconds.
    """

    model_config = ConfigDict(frozen=True)
    text: str
    business: bool
    seconds: float = 0.0  # continuous allowances (hours, days, …)
    business_hours: float = 0.0  # business-hour allowances
    business_days: float = 0.0  # business-day allowances (× the calendar's working-day length)

    @classmethod
    def parse(cls, value: object) -> Within:
        if isinstance(value, Within):
            return value
        match = _WITHIN.match(str(value)) if isinstance(value, str | int | float) else None
        if match is None or isinstance(value, bool):
            raise ValueError(
                f"'within' must be like '24 hours', '24 business hours' or '2 business days'. Got {value!r}"
            )
        number, business, unit = float(match.group(1)), bool(match.group(2)), match.group(3).lower()[0]
        if number <= 0:
            raise ValueError(f"'within' must be positive. Got {value!r}")
        if not business:
            return cls(text=str(value), business=False, seconds=number * _UNIT[unit])
        if unit == "h":
            return cls(text=str(value), business=True, business_hours=number)
        if unit == "m":
            return cls(text=str(value), business=True, business_hours=number / 60)
        days = number * (5 if unit == "w" else 1)
        return cls(text=str(value), business=True, business_days=days)

    def allowance(self, day_hours: float) -> float:
        """The allowance in seconds of the clock's time (business seconds on a ``day_hours``-hour working day)."""
        if not self.business:
            return self.seconds
        return (self.business_hours + self.business_days * day_hours) * 3600.0


class HolidaySource(BaseModel):
    """Public holidays from the ``holidays`` package: a country code and an optional subdivision."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    country: str
    subdivision: str | None = None


class CalendarSpec(BaseModel):
    """Working days, working hours (one span a day, local wall-clock time), holidays and a time zone."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    timezone: str = "UTC"
    workdays: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    hours: str = "09:00-17:00"
    holidays: HolidaySource | None = None
    dates: tuple[dt.date, ...] = ()  # company holidays, on top of the public ones

    @field_validator("workdays")
    @classmethod
    def _workdays(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in value if d not in WEEKDAYS]
        if bad or not value:
            raise ValueError(f"workdays are some of {', '.join(WEEKDAYS)}. Got {list(value)!r}")
        return value

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        open_s, close_s = hours_span(value)
        if not 0 <= open_s < close_s <= 86400:
            raise ValueError(f"hours must be an increasing span within one day like '09:00-17:00'. Got {value!r}")
        return value

    @property
    def span(self) -> tuple[float, float]:
        """``(open, close)`` in seconds after local midnight."""
        return hours_span(self.hours)

    @property
    def day_hours(self) -> float:
        open_s, close_s = self.span
        return (close_s - open_s) / 3600.0


def hours_span(text: str) -> tuple[float, float]:
    """``"09:00-17:30"`` → ``(32400.0, 63000.0)``; raises ``ValueError`` for anything else."""
    match = _HOURS.match(text)
    if match is None:
        raise ValueError(f"hours must be like '09:00-17:00'. Got {text!r}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return float(h1 * 3600 + m1 * 60), float(h2 * 3600 + m2 * 60)


class EventSpec(BaseModel):
    """Which rows mark a clock's start, stop or pause: one of ``lifecycle``/``stage``/``field``/``touch``.

    ``lifecycle: mql`` (ledger lifecycle events), ``stage: proposal``, ``field: owner_id`` (a ledger field
    change; ``new_value`` may narrow it), ``touch: sales`` (a touchpoint of that type). ``with_reason`` keeps
    only events that carry a reason (a rejection must say why).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    lifecycle: tuple[str, ...] = ()
    stage: tuple[str, ...] = ()
    field: str | None = None
    new_value: tuple[str, ...] = ()
    touch: Literal["sales", "marketing"] | None = None
    with_reason: bool = False

    @field_validator("lifecycle", "stage", "new_value", mode="before")
    @classmethod
    def _names(cls, value: object) -> object:
        return (value,) if isinstance(value, str) else value

    @model_validator(mode="after")
    def _one_source(self) -> EventSpec:
        given = [bool(self.lifecycle), bool(self.stage), self.field is not None, self.touch is not None]
        if sum(given) != 1:
            raise ValueError("an event names exactly one of lifecycle, stage, field or touch")
        return self

    @property
    def source(self) -> str:
        if self.lifecycle:
            return "lifecycle"
        if self.stage:
            return "stage"
        return "field" if self.field is not None else "touch"


class PauseSpec(BaseModel):
    """The clock stops while paused: from a ``from`` event until the next ``until`` event (or now)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: EventSpec = Field(alias="from")
    until: EventSpec


class SlaSpec(BaseModel):
    """One SLA of the agreement: a clock (``start``/``stop``/``within``) or a volume (``kpi``/``at_least``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    label: str = ""
    description: str = ""
    type: Literal["clock", "volume"] = "clock"
    owner: Literal["marketing", "sales", "revops", "customer_success"] = "sales"
    start: EventSpec | None = None
    stop: tuple[EventSpec, ...] = ()
    pause: tuple[PauseSpec, ...] = ()
    within: Within | None = None
    calendar: str | None = None  # a calendar name, "team" (the owner's team's), or none: continuous time
    at_risk: float = Field(0.75, gt=0, lt=1)
    kpi: str | None = None  # the catalog KPI this SLA's compliance ties to (clock) or is measured by (volume)
    by: str | None = None  # volume: the KPI dimension the minimum is per (segment, channel, …)
    at_least: dict[str, float] = Field(default_factory=dict)  # volume: slice value (or "all") → minimum a month

    @field_validator("stop", mode="before")
    @classmethod
    def _stops(cls, value: object) -> object:
        return (value,) if isinstance(value, dict) else value

    @field_validator("within", mode="before")
    @classmethod
    def _within(cls, value: object) -> object:
        return None if value is None else Within.parse(value)

    @model_validator(mode="after")
    def _shape(self) -> SlaSpec:
        if self.type == "clock" and (self.start is None or not self.stop or self.within is None):
            raise ValueError(f"clock SLA {self.name!r} needs start, stop and within")
        if self.type == "volume" and (self.kpi is None or not self.at_least):
            raise ValueError(f"volume SLA {self.name!r} needs kpi and at_least")
        return self


class MqlDefinition(BaseModel):
    """What counts as an MQL: a scoring model (name and version) and its threshold — a reference only."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    scoring_model: str
    model_version: int | str
    threshold: float


class Signatory(BaseModel):
    """Who signs for a side: ``role`` (marketing, sales, revops, customer_success) and a person id."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Literal["marketing", "sales", "revops", "customer_success"]
    person: str


class SharedKpi(BaseModel):
    """A KPI both sides agree on, with its target: for one ``period`` (``2026-Q1``), or, without one, for every
    period while this version is in force; ``slice`` narrows it to a slice (``{segment: smb}``).

    The targets feed the project's target book (:func:`revalign.analytics.agreement_targets.agreement_targets`),
    so the scorecard scores the shared KPIs against what both leaders signed.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    kpi: str
    target: float
    period: str | None = None
    slice: dict[str, str] = Field(default_factory=dict)

    @field_validator("slice", mode="before")
    @classmethod
    def _slice(cls, value: object) -> object:
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else value


class AgreementSpec(BaseModel):
    """One version of a marketing–sales agreement."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    agreement: str
    version: int
    effective_from: dt.date
    label: str = ""
    mql: MqlDefinition | None = None
    slas: tuple[SlaSpec, ...] = ()
    kpis: tuple[SharedKpi, ...] = ()
    signatories: tuple[Signatory, ...] = ()
    calendars: dict[str, CalendarSpec] = Field(default_factory=dict)
    teams: dict[str, str] = Field(default_factory=dict)  # team id → calendar name
    file: str | None = None

    def sla(self, name: str) -> SlaSpec | None:
        return next((s for s in self.slas if s.name == name), None)

    @property
    def key(self) -> tuple[str, int]:
        """``(agreement, version)``: how sign-off names a version (the approved set is a set of these)."""
        return self.agreement, self.version

    @property
    def departments(self) -> tuple[str, ...]:
        """The departments that must sign this version (its signatories' roles, in the file's order)."""
        return tuple(dict.fromkeys(s.role for s in self.signatories))

    def content_hash(self) -> str:
        """A fingerprint of what the version says (not its file's layout or path): what the signatories sign.

        An edit to a signed file changes the hash, so the edited text is no longer the signed one.
        """
        data = self.model_dump(mode="json", exclude={"file"})
        for kpi in data["kpis"]:  # a KPI without a slice hashes as before slices existed: old signatures hold
            if not kpi["slice"]:
                del kpi["slice"]
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def calendar_of(self, sla: SlaSpec, team_id: str | None) -> str | None:
        """The calendar name a clock of ``sla`` runs on for an owner in ``team_id`` (``None``: continuous)."""
        if sla.calendar is None:
            return None
        if sla.calendar == "team":
            return self.teams.get(team_id or "", "default")
        return sla.calendar


__all__ = [
    "SIGNATORY_ROLES",
    "WEEKDAYS",
    "AgreementSpec",
    "CalendarSpec",
    "EventSpec",
    "HolidaySource",
    "MqlDefinition",
    "PauseSpec",
    "SharedKpi",
    "Signatory",
    "SlaSpec",
    "Within",
    "hours_span",
]
