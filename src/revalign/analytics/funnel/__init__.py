"""Funnels as first-class objects: YAML definitions over the ledger, cohort and period modes, timings.

``funnel(tables, "lead_to_customer", mode="cohort", grain="month", by=("channel",))`` returns a
:class:`FunnelResult`; ``stage_velocity`` and ``sales_cycle`` time opportunity stages. Rules (order,
windows, one count per entity, recycled leads, re-opened deals) are documented on :class:`FunnelSpec` and in
``docs/funnels.md``.
"""

from __future__ import annotations

from revalign.analytics.funnel.compute import FunnelResult, funnel, reach_times
from revalign.definitions.funnels.loader import default_funnels, load_funnels, parse_funnels, resolve_funnel
from revalign.definitions.funnels.spec import EventSelector, FunnelSpec, Step, parse_duration

__all__ = [
    "EventSelector",
    "FunnelResult",
    "FunnelSpec",
    "Step",
    "default_funnels",
    "funnel",
    "load_funnels",
    "parse_duration",
    "parse_funnels",
    "reach_times",
    "resolve_funnel",
]
