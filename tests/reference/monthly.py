"""What the references share: month keys, monthly series and their alignment, slices of the canonical tables.

Plain pandas, written from docs/kpis.md; no revalign code is imported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pandas as pd

from tests.reference.registry import ADDITIVE, Tables, ref

MARKETING = ["organic_search", "paid_search", "paid_social", "email", "events", "webinar", "content", "direct"]


def month(values: pd.Series) -> pd.Series:
    ts = pd.to_datetime(values)
    return pd.Series([dt.date(d.year, d.month, 1) if pd.notna(d) else None for d in ts], index=values.index)


def by_month(df: pd.DataFrame, time: str, value: str | None = None, how: str = "count") -> pd.Series:
    df = df[df[time].notna()]
    keys = month(df[time])
    out = df.groupby(keys).size().astype(float) if how == "count" else df.groupby(keys)[value].agg(how).astype(float)
    out.index.name = None
    return out.dropna()


def combine(fn: Callable[..., pd.Series], *inputs: tuple[pd.Series, bool]) -> pd.Series:
    """Align inputs on the union of their months; additive ones count a missing month as 0."""
    index = sorted(set().union(*[set(s.index) for s, _ in inputs]))
    aligned = [s.reindex(index).fillna(0.0) if add else s.reindex(index) for s, add in inputs]
    out = fn(*aligned)
    return out.replace([np.inf, -np.inf], np.nan).dropna()


def div(a: pd.Series, b: pd.Series) -> pd.Series:
    return a / b.where(b != 0)


def ratio(t: Tables, num: str, den: str) -> pd.Series:
    return combine(div, (ref(num, t), num in ADDITIVE), (ref(den, t), den in ADDITIVE))


def lifecycle(t: Tables, stage: str | list[str], reason: str | None = None) -> pd.DataFrame:
    led = t["ledger"]
    stages = [stage] if isinstance(stage, str) else stage
    out = led[(led.entity_type == "lead") & (led.kind == "lifecycle") & led["name"].isin(stages)]
    return out[out.reason == reason] if reason else out


def conversion(base: pd.DataFrame, conv: pd.DataFrame, days: float) -> pd.Series:
    """base/conv: columns entity, time. Share of distinct base events with a conversion in [time, time+days]."""
    base = base.dropna().drop_duplicates().reset_index(drop=True)
    base["time"] = pd.to_datetime(base["time"])
    conv = conv.dropna().drop_duplicates().copy()
    conv["ctime"] = pd.to_datetime(conv.pop("time"))
    m = base.reset_index().merge(conv, on="entity", how="left")
    ok = (m.ctime >= m.time) & (m.ctime <= m.time + pd.Timedelta(days=days))
    base["converted"] = ok.groupby(m["index"]).any().reindex(base.index).fillna(False).astype(float)
    out = base.groupby(month(base["time"]))["converted"].mean()
    out.index.name = None
    return out


def opps(t: Tables) -> pd.DataFrame:
    return t["opportunities"]


def won_nb(t: Tables) -> pd.DataFrame:
    o = opps(t)
    return o[o.is_won.astype(bool) & (o.deal_type == "new_business")]


def spend(t: Tables, department: str | list[str]) -> pd.DataFrame:
    s = t["spend"]
    return s[s.department.isin([department] if isinstance(department, str) else department)]


def snapshot(df: pd.DataFrame, start: str, end: str | None, value: str | None, how: str) -> pd.Series:
    """State at the start of each month: started before it and not ended before it."""
    frm = pd.to_datetime(df[start]).dt.date
    to = pd.to_datetime(df[end]).dt.date if end else pd.Series([None] * len(df), index=df.index)
    if frm.dropna().empty:
        return pd.Series(dtype=float)
    last = max(frm.max(), to.dropna().max() if to.notna().any() else frm.max())
    if to.isna().any():
        last = max(last, dt.date.today())
    first = frm.min().replace(day=1)
    out = {}
    p = first
    while p <= last:
        active = (frm < p) & (to.isna() | (to >= p))
        rows = df[active.to_numpy()]
        if len(rows):
            out[p] = float(len(rows)) if how == "count" else float(rows[value].agg(how))
        p = (pd.Timestamp(p) + pd.offsets.MonthBegin(1)).date()
    return pd.Series(out, dtype=float)


def movements(t: Tables) -> pd.DataFrame:
    s = t["subscriptions"]
    starts = pd.DataFrame({"account_id": s.account_id, "date": pd.to_datetime(s.start_date), "delta": s.mrr})
    e = s[s.end_date.notna()]
    ends = pd.DataFrame({"account_id": e.account_id, "date": pd.to_datetime(e.end_date), "delta": -e.mrr})
    d = pd.concat([starts, ends]).groupby(["account_id", "date"], as_index=False)["delta"].sum()
    d = d.sort_values(["account_id", "date"])
    d["after"] = d.groupby("account_id")["delta"].cumsum()
    d["before"] = d["after"] - d["delta"]
    d["nth"] = d.groupby("account_id").cumcount()
    was, now = d.before > 0.005, d.after > 0.005
    d["movement"] = np.select(
        [~was & now & (d.nth == 0), ~was & now, was & ~now, d.delta > 0.005, d.delta < -0.005],
        ["new", "reactivation", "churn", "expansion", "contraction"],
        "none",
    )
    d["amount"] = d.delta.abs()
    return d
