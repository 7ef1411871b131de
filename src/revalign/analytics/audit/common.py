"""What every detector needs: the findings shape as an Ibis select, normalised emails, a lead's opportunity and
original source, and the last step that turns an executed findings table into the one sorted frame.

``finding_id`` is computed here in Python (a SHA-1 of kind, entity, related record and time) and not in Ibis:
hash functions differ between DuckDB, PostgreSQL and Spark, and the same finding must have the same id on every
engine so that a reviewer's decision survives a change of engine as well as a refresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TypeAlias

import ibis
import ibis.expr.types as ir
import pandas as pd

from revalign.analytics.audit.findings import FINDING_COLUMNS, FINDING_KINDS
from revalign.model.access import Tables

Value: TypeAlias = ir.Value | str | float | None
"""A finding column: an Ibis value of the detector's table, or a constant (None: null)."""

SORT_KEY = ["kind", "occurred_at", "entity_id", "related_id", "finding_id"]
"""The order of every findings frame: by kind (in :data:`FINDING_KINDS` order), then time and records."""


def finding_table(t: ir.Table, kind: str, values: Mapping[str, Value]) -> ir.Table:
    """``t`` as a findings table: every column of :data:`FINDING_COLUMNS` in order, typed; ``finding_id`` null.

    ``values`` gives each column except ``kind`` and ``finding_id``; a column not given is null.
    """
    cols: dict[str, ir.Value] = {}
    for name, dtype in FINDING_COLUMNS.items():
        if name == "kind":
            cols[name] = ibis.literal(kind, "string")
            continue
        value = None if name == "finding_id" else values.get(name)
        cols[name] = value.cast(dtype) if isinstance(value, ir.Value) else ibis.literal(value, dtype)
    return t.select(**cols)


def normalised_email(email: ir.StringValue, *, ignore_tags: bool = True) -> ir.StringValue:
    """Lower-case, trimmed, without a ``+tag`` before the ``@`` (same mailbox): ``P6+crm@X.com`` → ``p6@x.com``."""
    e = email.strip().lower()
    return e.re_replace(r"\+[^@]*@", "@") if ignore_tags else e


def email_domain(email: ir.StringValue) -> ir.StringValue:
    """The part after the ``@`` of a normalised email."""
    return email.re_extract(r"@(.+)$", 1)


def first_opportunity(tables: Tables) -> ir.Table:
    """Per lead (``o_lead``): its first-created opportunity (``o_id``), when created (``o_created``), and the won
    amount at stake (``o_won``: the amount when won, else 0)."""
    o = tables.table("opportunities").filter(lambda t: t.lead_id.notnull())
    rank = ibis.row_number().over(group_by=o.lead_id, order_by=[o.created_at, o.opportunity_id])
    o = o.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    return o.select(
        o_lead=o.lead_id,
        o_id=o.opportunity_id,
        o_created=o.created_at,
        o_won=ibis.ifelse(o.is_won, o.amount.fill_null(0.0), 0.0),
    )


def source_changes(tables: Tables, entity_type: str) -> ir.Table:
    """``lead_source`` field changes of leads or opportunities that really change it (old and new known, differ)."""
    led = tables.table("ledger")
    return led.filter(
        (led.kind == "field")
        & (led.name == "lead_source")
        & (led.entity_type == entity_type)
        & led.old_value.notnull()
        & led.new_value.notnull()
        & (led.old_value != led.new_value)
    )


def original_sources(tables: Tables) -> ir.Table:
    """Per lead (``s_lead``): its source before any change the ledger knows (``s_original``, the old value of its
    first ``lead_source`` change); leads never changed are absent (their current source is the original)."""
    c = source_changes(tables, "lead")
    rank = ibis.row_number().over(group_by=c.entity_id, order_by=[c.occurred_at, c.event_id])
    c = c.mutate(_rn=rank).filter(lambda t: t._rn == 0)
    return c.select(s_lead=c.entity_id, s_original=c.old_value)


def text(value: ir.Value) -> ir.StringValue:
    """A value as text for a ``detail`` sentence (``?`` when null, so one null does not blank the sentence)."""
    return value.cast("string").fill_null("?")


def finding_ids(frame: pd.DataFrame) -> pd.Series:
    """Deterministic ids: the first 16 hex digits of SHA-1 over kind, entity, related record and time (UTC, µs)."""
    when = pd.to_datetime(frame["occurred_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S.%f")
    parts = zip(frame["kind"], frame["entity_id"], frame["related_id"].fillna(""), when.fillna(""), strict=True)
    return pd.Series(
        [hashlib.sha1("|".join(map(str, p)).encode()).hexdigest()[:16] for p in parts],
        index=frame.index,
        dtype="string",
    )


def finalise(frame: pd.DataFrame) -> pd.DataFrame:
    """Executed findings of any detectors → one frame: typed, ``finding_id`` filled, sorted, indexed 0…n-1."""
    out = pd.DataFrame({name: frame[name] for name in FINDING_COLUMNS}) if len(frame.columns) else frame
    if out.empty:
        return empty_findings()
    for name in ("occurred_at", "recorded_at"):
        ts = pd.to_datetime(out[name])
        out[name] = (ts.dt.tz_convert(None) if ts.dt.tz is not None else ts).astype("datetime64[us]")
    for name, dtype in FINDING_COLUMNS.items():
        if dtype == "string":
            out[name] = out[name].astype("string")
        elif dtype == "float64":
            out[name] = out[name].astype("float64")
    out["finding_id"] = finding_ids(out)
    order = {k: i for i, k in enumerate(FINDING_KINDS)}
    out = out.assign(_k=out["kind"].map(order)).sort_values(["_k", *SORT_KEY[1:]], kind="stable")
    return out.drop(columns="_k").reset_index(drop=True)


def empty_findings() -> pd.DataFrame:
    """A findings frame with no rows, every column typed."""
    types = {"string": "string", "float64": "float64", "timestamp": "datetime64[us]"}
    return pd.DataFrame({n: pd.Series([], dtype=types[d]) for n, d in FINDING_COLUMNS.items()})
