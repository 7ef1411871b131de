"""Vectorised pandas for the whole default KPI catalog at month grain: whole company and by each dimension.

The by-dimension baseline of the catalog refresh benchmark (issue #20): what a pandas engineer would write to
compute every default KPI × (company + channel, campaign, segment, region, team, owner) from the canonical
tables, written for speed. No revalign code is imported: the KPI definitions are transcribed from the default
catalog YAML (src/revalign/definitions/kpis/default/), the same descriptions tests/reference/kpis.py follows.

How a row gets a dimension is read from the semantic models, once per table, before any KPI is computed: each
fact table carries a categorical column per dimension it reaches (``channel`` is the opportunity's or lead's
``lead_source`` but a touchpoint's own ``channel``; ``campaign`` of an opportunity is its lead's; ``team`` is
the owner's team; ``region`` of quotas, users and forecasts is the owner's team's; subscriptions and MRR
movements reach segment, region, owner and team through the account). A KPI reaches a dimension when every
semantic model it reads does (:data:`REACH`); the others are left out, as ``skip_unreachable`` does. A missing
dimension value is its own slice, ``(none)``.

Every KPI is then a group-by on ``[month]`` or ``[month, dimension]``: ratios and derived KPIs align their
inputs on the union of keys (an additive input's missing key counts as 0), conversions find the next
conversion event with ``merge_asof``, snapshots count active rows with cumulative sums over months, and the
trailing windows take cumulative sums over a dense day × slice grid. Results are Series indexed by month
(``Timestamp``, first day) for the company and by (month, slice) otherwise, without the periods where a KPI
is undefined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial, reduce
from pathlib import Path

import numpy as np
import pandas as pd

DIMENSIONS = ("channel", "campaign", "segment", "region", "team", "owner")
NONE = "(none)"
MARKETING = ["organic_search", "paid_search", "paid_social", "email", "events", "webinar", "content", "direct"]
NEW_REVENUE_REVISION = np.datetime64("2024-07-01", "ns")  # before it, closed-won renewals counted as new revenue
OWNER_REQUIRED = np.datetime64("2025-01-01", "ns")  # complete_leads: the owner is required from this month on

Tables = dict[str, pd.DataFrame]
Result = dict[tuple[str, str | None], pd.Series]

_LEAD_DIMS = set(DIMENSIONS)
_OWNER_DIMS = {"region", "team", "owner"}
_ACCOUNT_DIMS = {"segment", "region", "team", "owner"}
REACH: dict[str, set[str]] = {
    "opportunities": set(DIMENSIONS),
    "leads": _LEAD_DIMS,
    "lead_facts": _LEAD_DIMS,
    "lifecycle_events": _LEAD_DIMS,
    "touchpoints": _LEAD_DIMS,
    "spend": {"channel", "campaign"},
    "web_traffic": {"channel", "campaign"},
    "quotas": _OWNER_DIMS,
    "users": _OWNER_DIMS,
    "forecasts": _OWNER_DIMS,
    "subscriptions": _ACCOUNT_DIMS,
    "mrr_movements": _ACCOUNT_DIMS,
}
"""Dimensions each semantic model reaches (its own columns, or through lead, owner → team, account)."""

# -- dimension columns, attached once -----------------------------------------------------------------------------


def _cat(values: pd.Series) -> pd.Categorical:
    """Dimension values as a categorical whose categories always include ``(none)`` (missing values)."""
    cat = pd.Categorical(values.astype(object).where(values.notna(), NONE))
    return cat if NONE in cat.categories else cat.add_categories([NONE])


def _through(parent: pd.Categorical, pos: np.ndarray) -> pd.Categorical:
    """``parent``'s value at row positions ``pos`` (-1, a missing parent row, reads ``(none)``)."""
    codes = np.append(parent.codes, parent.categories.get_loc(NONE))
    return pd.Categorical.from_codes(codes[pos], dtype=parent.dtype)


def _pos(keys: pd.Series, parent_keys: pd.Series) -> np.ndarray:
    return pd.Index(parent_keys).get_indexer(keys)


def _month(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[M]").astype("datetime64[ns]")


def _day(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[D]").astype("datetime64[ns]")


@dataclass
class Facts:
    """The canonical tables as the KPIs read them: filtered, with month/day keys and dimension columns."""

    frames: Tables
    shared: dict[object, pd.DataFrame | pd.Series] = field(default_factory=dict)
    """What does not depend on the slice (filtered rows, first touches, conversion flags), computed once."""

    @classmethod
    def prepare(cls, t: Tables) -> Facts:
        users, teams = t["users"], t["teams"]
        user_team = _cat(users["team_id"])
        team_region = _cat(teams["region"])
        user_region = _through(team_region, _pos(users["team_id"], teams["team_id"]))

        def owner_dims(df: pd.DataFrame, col: str) -> None:
            pos = _pos(df[col], users["user_id"])
            df["owner"] = _cat(df[col])
            df["team"] = _through(user_team, pos)
            df["region"] = _through(user_region, pos)

        leads = t["leads"].copy()
        leads["channel"], leads["campaign"] = _cat(leads["lead_source"]), _cat(leads["campaign_id"])
        leads["segment"], leads["region"] = _cat(leads["segment"]), _cat(leads["region"])
        leads["owner"] = _cat(leads["owner_id"])
        leads["team"] = _through(user_team, _pos(leads["owner_id"], users["user_id"]))
        leads["m_created_at"] = _month(leads["created_at"])

        def lead_dims(df: pd.DataFrame, col: str, own: tuple[str, ...] = ()) -> None:
            pos = _pos(df[col], leads["lead_id"])
            for d in DIMENSIONS:
                if d not in own:
                    df[d] = _through(leads[d].array, pos)

        accounts = t["accounts"]
        acc = {"segment": _cat(accounts["segment"]), "region": _cat(accounts["region"])}
        acc["owner"] = _cat(accounts["owner_id"])
        acc["team"] = _through(user_team, _pos(accounts["owner_id"], users["user_id"]))

        def account_dims(df: pd.DataFrame) -> None:
            pos = _pos(df["account_id"], accounts["account_id"])
            for d, parent in acc.items():
                df[d] = _through(parent, pos)

        o = t["opportunities"].copy()
        o["is_won"], o["is_closed"] = o["is_won"].astype(bool), o["is_closed"].astype(bool)
        o["channel"], o["segment"], o["region"] = _cat(o["lead_source"]), _cat(o["segment"]), _cat(o["region"])
        o["owner"] = _cat(o["owner_id"])
        o["team"] = _through(user_team, _pos(o["owner_id"], users["user_id"]))
        o["campaign"] = _through(leads["campaign"].array, _pos(o["lead_id"], leads["lead_id"]))
        for col in ("created_at", "closed_at", "close_date"):
            o[f"m_{col}"] = _month(o[col])
        o["d_created_at"], o["d_closed_at"] = _day(o["created_at"]), _day(o["closed_at"])

        led = t["ledger"]
        ev = led.loc[(led["entity_type"] == "lead") & (led["kind"] == "lifecycle"), ["entity_id", "name", "reason"]]
        ev = ev.assign(occurred_at=pd.to_datetime(led.loc[ev.index, "occurred_at"]))
        lead_dims(ev, "entity_id")
        ev["m_occurred_at"], ev["d_occurred_at"] = _month(ev["occurred_at"]), _day(ev["occurred_at"])

        tp = t["touchpoints"][["lead_id", "occurred_at", "channel", "campaign_id", "touch_type"]].copy()
        tp["occurred_at"] = pd.to_datetime(tp["occurred_at"])
        tp["channel"], tp["campaign"] = _cat(tp["channel"]), _cat(tp["campaign_id"])
        lead_dims(tp, "lead_id", own=("channel", "campaign"))
        tp["m_occurred_at"] = _month(tp["occurred_at"])

        frames = {"leads": leads, "opportunities": o, "lifecycle": ev, "touchpoints": tp}
        for name in ("spend", "web_traffic"):
            df = t[name].copy()
            df["channel"], df["campaign"] = _cat(df["channel"]), _cat(df["campaign_id"])
            df["m_date"] = _month(df["date"])
            frames[name] = df
        q = t["quotas"].copy()
        owner_dims(q, "user_id")
        q["m_period_start"] = _month(q["period_start"])
        u = users.copy()
        owner_dims(u, "user_id")
        f = t["forecasts"].copy()
        owner_dims(f, "owner_id")
        s = t["subscriptions"].copy()
        account_dims(s)
        mv = movements(s)
        account_dims(mv)
        mv["m_date"], mv["d_date"] = _month(mv["date"]), _day(mv["date"])
        frames |= {"quotas": q, "users": u, "forecasts": f, "subscriptions": s, "movements": mv}
        return cls(frames)


def movements(s: pd.DataFrame) -> pd.DataFrame:
    """Changes of each account's MRR (new, reactivation, churn, expansion, contraction), as the view defines them."""
    starts = pd.DataFrame({"account_id": s["account_id"], "date": pd.to_datetime(s["start_date"]), "delta": s["mrr"]})
    e = s[s["end_date"].notna()]
    ends = pd.DataFrame({"account_id": e["account_id"], "date": pd.to_datetime(e["end_date"]), "delta": -e["mrr"]})
    d = pd.concat([starts, ends]).groupby(["account_id", "date"], as_index=False)["delta"].sum()
    d = d.sort_values(["account_id", "date"])
    d["after"] = d.groupby("account_id")["delta"].cumsum()
    before = d["after"] - d["delta"]
    nth = d.groupby("account_id").cumcount()
    was, now = before > 0.005, d["after"] > 0.005
    d["movement"] = np.select(
        [~was & now & (nth == 0), ~was & now, was & ~now, d["delta"] > 0.005, d["delta"] < -0.005],
        ["new", "reactivation", "churn", "expansion", "contraction"],
        "none",
    )
    d["amount"] = d["delta"].abs()
    return d.reset_index(drop=True)


# -- the KPI registry ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    fn: Callable[[Slice], pd.Series]
    models: tuple[str, ...] = ()
    inputs: tuple[str, ...] = ()
    additive: bool = False


CATALOG: dict[str, Spec] = {}


def kpi(
    name: str, models: tuple[str, ...] = (), inputs: tuple[str, ...] = (), additive: bool = False
) -> Callable[[Callable[[Slice], pd.Series]], Callable[[Slice], pd.Series]]:
    """Register a KPI: a simple one names the ``models`` it reads, a ratio or derived one its ``inputs``."""

    def register(fn: Callable[[Slice], pd.Series]) -> Callable[[Slice], pd.Series]:
        CATALOG[name] = Spec(fn, models, inputs, additive)
        return fn

    return register


def reach(name: str) -> set[str]:
    """Dimensions KPI ``name`` can be sliced by: those every semantic model it reads reaches."""
    spec = CATALOG[name]
    sets = [REACH[m] for m in spec.models] + [reach(i) for i in spec.inputs]
    return set.intersection(*sets)


@dataclass
class Slice:
    """One slicing (the company, or one dimension) of the catalog: groups by month and, if any, ``dim``."""

    facts: Facts
    dim: str | None
    values: dict[str, pd.Series] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.facts.frames[name]

    def once(self, key: object, fn: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        """``fn()``, computed once for every slice (it must not depend on the slice)."""
        if key not in self.facts.shared:
            self.facts.shared[key] = fn()
        out = self.facts.shared[key]
        assert isinstance(out, pd.DataFrame)
        return out

    def ref(self, name: str) -> pd.Series:
        if name not in self.values:
            self.values[name] = CATALOG[name].fn(self)
        return self.values[name]

    def keys(self, df: pd.DataFrame, time: str) -> list[str]:
        return [f"m_{time}", *([self.dim] if self.dim else [])]

    def agg(self, df: pd.DataFrame, time: str, value: str | None = None, how: str = "count") -> pd.Series:
        g = df.groupby(self.keys(df, time), observed=True, sort=True)
        out = g.size() if how == "count" else g[value].agg(how)
        out = out.astype(float).dropna()
        out.index.names = ["month", *([self.dim] if self.dim else [])]
        return out

    def combine(self, fn: Callable[..., pd.Series], *inputs: tuple[str, bool | None]) -> pd.Series:
        """Align the named inputs on the union of their keys; additive ones (flag None: as registered) count a
        missing key as 0."""
        series = [(self.ref(n), CATALOG[n].additive if add is None else add) for n, add in inputs]
        index = reduce(lambda a, b: a.union(b), [s.index for s, _ in series])
        aligned = [s.reindex(index).fillna(0.0) if add else s.reindex(index) for s, add in series]
        return fn(*aligned).replace([np.inf, -np.inf], np.nan).dropna()

    def ratio(self, num: str, den: str) -> pd.Series:
        return self.combine(div, (num, None), (den, None))

    def snapshot(self, df: pd.DataFrame, start: str, end: str | None, value: str | None, how: str) -> pd.Series:
        """State at each month's first day: rows with start < month ≤ end (end NULL: still active), over the
        spine from the first start's month to the last date (today while rows are open)."""
        frm = pd.to_datetime(df[start])
        ok = frm.notna().to_numpy()
        df, frm = df[ok], frm[ok]
        if df.empty:
            return pd.Series(dtype=float)
        to = pd.to_datetime(df[end]) if end else pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
        first = _mi(frm.to_numpy())  # month index of each row's start; active from the next month
        lo = first + 1
        last = max(frm.max(), to.max()) if to.notna().any() else frm.max()
        if to.isna().any():
            last = max(last, pd.Timestamp(dt.date.today()))
        spine_hi = _mi(np.array([last.to_datetime64()]))[0]
        hi = np.where(to.isna().to_numpy(), spine_hi, _mi(to.fillna(last).to_numpy()))
        keep = lo <= hi
        rows = pd.DataFrame({"lo": lo[keep], "hi": hi[keep]})
        if self.dim:
            rows["k"] = df[self.dim].to_numpy()[keep]
        if how == "nunique":  # distinct values: merge each value's overlapping month ranges first
            rows["v"] = df[value].to_numpy()[keep]
            rows = _merge_ranges(rows, ["v", *(["k"] if self.dim else [])])
            rows["w"] = 1.0
        else:
            rows["w"] = 1.0 if how == "count" else df[value].to_numpy()[keep].astype(float)
        return self._ranges(rows, int(_mi(frm.to_numpy()).min()), int(spine_hi))

    def _ranges(self, rows: pd.DataFrame, lo: int, hi: int) -> pd.Series:
        """Sum of ``w`` and count of the rows active in each month index of [lo, hi] (rows active lo..hi)."""
        n = hi - lo + 2
        keys = rows["k"] if self.dim else pd.Series(0, index=rows.index)
        codes, uniques = pd.factorize(keys)
        grid_w = np.zeros((n, len(uniques)))
        grid_n = np.zeros((n, len(uniques)))
        for col, sign in (("lo", 1.0), ("hi", -1.0)):
            at = rows[col].to_numpy() - lo + (0 if col == "lo" else 1)
            np.add.at(grid_w, (at, codes), sign * rows["w"].to_numpy())
            np.add.at(grid_n, (at, codes), sign)
        w, cnt = grid_w.cumsum(axis=0)[:-1], grid_n.cumsum(axis=0)[:-1]
        months = _from_mi(np.arange(lo, hi + 1))
        frame = pd.DataFrame(np.where(cnt > 0.5, w, np.nan), index=months, columns=pd.Index(uniques))
        out = frame.stack().dropna().astype(float)
        if not self.dim:
            out.index = out.index.droplevel(1)
            out.index.name = "month"
        else:
            out.index.names = ["month", self.dim]
        return out.sort_index()

    def trailing(
        self, df: pd.DataFrame, time: str, value: str | None, *, days: int = 0, months: int = 0, ytd: bool = False
    ) -> pd.Series:
        """Month values of a trailing-window total (period_agg last): per slice, the window total of the last
        day of the month that has an event in its window, from the slice's first event day to the end of the
        month of its last one."""
        day = df[f"d_{time}"]
        ok = ~np.isnat(day.to_numpy())
        df = df[ok]
        if df.empty:
            return pd.Series(dtype=float)
        keys = [f"d_{time}", *([self.dim] if self.dim else [])]
        g = df.groupby(keys, observed=True)
        total = (g.size() if value is None else g[value].sum()).astype(float)
        count = g.size().astype(float)
        if self.dim:
            total, count = total.unstack(fill_value=0.0), count.unstack(fill_value=0.0)
        else:
            total, count = total.to_frame("all"), count.to_frame("all")
        end = (total.index.max() + pd.offsets.MonthEnd(0)).normalize()
        days_index = pd.date_range(total.index.min(), end, freq="D")
        total = total.reindex(days_index, fill_value=0.0)
        count = count.reindex(days_index, fill_value=0.0)
        csum = np.vstack([np.zeros((1, total.shape[1])), total.to_numpy().cumsum(axis=0)])
        ccnt = np.vstack([np.zeros((1, count.shape[1])), count.to_numpy().cumsum(axis=0)])
        hi = np.arange(1, len(days_index) + 1)
        if ytd:
            starts = pd.DatetimeIndex([dt.datetime(y, 1, 1) for y in days_index.year])
            lo = days_index.searchsorted(starts, side="left")
        else:
            back = days_index - (pd.DateOffset(months=months) if months else pd.Timedelta(days=days))
            lo = days_index.searchsorted(back, side="right")
        window_total, window_count = csum[hi] - csum[lo], ccnt[hi] - ccnt[lo]
        has = count.to_numpy() > 0
        last_event = np.where(has.any(axis=0), len(days_index) - 1 - np.argmax(has[::-1], axis=0), -1)
        last_end = (days_index[last_event] + pd.offsets.MonthEnd(0)).to_numpy()
        valid = (window_count > 0) & (days_index.to_numpy()[:, None] <= last_end[None, :])
        frame = pd.DataFrame(np.where(valid, window_total, np.nan), index=days_index, columns=total.columns)
        out = frame.groupby(days_index.to_period("M").to_timestamp()).last().stack().dropna().astype(float)
        if not self.dim:
            out.index = out.index.droplevel(1)
            out.index.name = "month"
        else:
            out.index.names = ["month", self.dim]
        return out


def converted(
    base: pd.DataFrame, entity: str, time: str, conv: pd.DataFrame, cent: str, ctime: str, days: float
) -> pd.DataFrame:
    """The distinct base events (entity ``e``, time ``t``, month ``m_t``, the base's dimensions) with
    ``converted``: 1.0 when the next conversion event of the same entity at or after ``t`` is within ``days``."""
    dims = [d for d in DIMENSIONS if d in base.columns]
    b = base[[entity, time, *dims]].dropna(subset=[entity, time]).drop_duplicates(subset=[entity, time])
    b = b.rename(columns={entity: "e", time: "t"}).sort_values("t")
    c = conv[[cent, ctime]].dropna().drop_duplicates().rename(columns={cent: "e", ctime: "ct"}).sort_values("ct")
    m = pd.merge_asof(b, c, left_on="t", right_on="ct", by="e", direction="forward")
    m["converted"] = (m["ct"].notna() & (m["ct"] <= m["t"] + pd.Timedelta(days=days))).astype(float)
    m["m_t"] = _month(m["t"])
    return m


def _mi(values: np.ndarray) -> np.ndarray:
    """Month index (year × 12 + month - 1) of datetime64 values."""
    return values.astype("datetime64[M]").astype(np.int64) + 1970 * 12


def _from_mi(idx: np.ndarray) -> pd.DatetimeIndex:
    return pd.DatetimeIndex((idx - 1970 * 12).astype("datetime64[M]").astype("datetime64[ns]"))


def _merge_ranges(rows: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Union the [lo, hi] month ranges of each ``by`` group into disjoint ranges."""
    rows = rows.sort_values([*by, "lo"]).reset_index(drop=True)
    reach_ = rows.groupby(by, observed=True, sort=False)["hi"].cummax()
    prev = reach_.groupby([rows[b] for b in by], observed=True, sort=False).shift()
    new = prev.isna() | (rows["lo"] > prev + 1)
    run = new.cumsum()
    out = rows.groupby(run).agg(lo=("lo", "min"), hi=("hi", "max"), **{b: (b, "first") for b in by})
    return out.reset_index(drop=True)


def div(a: pd.Series, b: pd.Series) -> pd.Series:
    return a / b.where(b != 0)


# -- sales --------------------------------------------------------------------------------------------------------
def _won_nb(s: Slice) -> pd.DataFrame:
    o = s["opportunities"]
    return s.once("won_nb", lambda: o[o["is_won"] & (o["deal_type"] == "new_business")])


def _new_revenue_rows(s: Slice) -> pd.DataFrame:
    o = s["opportunities"]
    old = o["m_closed_at"].to_numpy() < NEW_REVENUE_REVISION
    return s.once(
        "new_revenue",
        lambda: o[o["is_won"] & ((o["deal_type"] == "new_business") | (old & (o["deal_type"] == "renewal")))],
    )


OPP = ("opportunities",)
kpi("new_revenue", OPP, additive=True)(lambda s: s.agg(_new_revenue_rows(s), "closed_at", "amount", "sum"))
kpi("deals_won", OPP, additive=True)(lambda s: s.agg(_won_nb(s), "closed_at"))
kpi("new_customers", OPP, additive=True)(lambda s: s.agg(_won_nb(s), "closed_at", "account_id", "nunique"))
kpi("active_closers", OPP, additive=True)(lambda s: s.agg(_won_nb(s), "closed_at", "owner_id", "nunique"))
kpi("average_deal_size", OPP)(lambda s: s.agg(_won_nb(s), "closed_at", "amount", "mean"))
kpi("total_bookings", OPP, additive=True)(
    lambda s: s.agg(s["opportunities"][s["opportunities"]["is_won"]], "closed_at", "amount", "sum")
)


@kpi("opportunities_closed", OPP, additive=True)
def _opportunities_closed(s: Slice) -> pd.Series:
    o = s["opportunities"]
    return s.agg(o[o["is_closed"] & (o["deal_type"] == "new_business")], "closed_at")


def _cycle(s: Slice) -> pd.DataFrame:
    w = _won_nb(s)
    return s.once("cycle", lambda: w.assign(days=(w["d_closed_at"] - w["d_created_at"]).dt.days))


kpi("sales_cycle_days_median", OPP)(lambda s: s.agg(_cycle(s), "closed_at", "days", "median"))
kpi("sales_cycle_days_mean", OPP)(lambda s: s.agg(_cycle(s), "closed_at", "days", "mean"))


def _nb(s: Slice) -> pd.DataFrame:
    o = s["opportunities"]
    return s.once("nb", lambda: o[o["deal_type"] == "new_business"])


kpi("opportunities_created", OPP, additive=True)(lambda s: s.agg(_nb(s), "created_at"))
kpi("pipeline_created", OPP, additive=True)(lambda s: s.agg(_nb(s), "created_at", "amount", "sum"))


@kpi("pipeline_in_period", OPP, additive=True)
def _pipeline_in_period(s: Slice) -> pd.Series:
    o = _nb(s)
    return s.agg(o[o["is_won"] | ~o["is_closed"]], "close_date", "amount", "sum")


kpi("quota", ("quotas",), additive=True)(lambda s: s.agg(s["quotas"], "period_start", "amount", "sum"))
for _name, _num, _den in (
    ("win_rate", "deals_won", "opportunities_closed"),
    ("pipeline_coverage", "pipeline_in_period", "quota"),
    ("quota_attainment", "new_revenue", "quota"),
    ("deals_per_rep", "deals_won", "active_closers"),
    ("visitor_to_lead_rate", "new_leads", "website_visitors"),
    ("cost_per_lead", "marketing_spend", "new_leads"),
    ("cost_per_mql", "marketing_spend", "mqls"),
    ("mql_acceptance_rate", "mqls_accepted", "mql_decisions"),
    ("mql_rejection_rate", "mqls_rejected", "mql_decisions"),
    ("cac", "acquisition_spend", "new_customers"),
    ("arpa", "mrr", "active_customers"),
    ("data_quality_score", "complete_leads", "new_leads"),
    ("logo_churn_rate", "customers_churned", "active_customers"),
    ("sales_marketing_spend_share", "acquisition_spend", "total_bookings"),
    ("spend_per_head", "acquisition_spend", "revenue_team_headcount"),
    ("revenue_per_sales_head", "new_revenue", "sales_headcount"),
    ("enablement_spend_share", "sales_enablement_spend", "sales_spend"),
    ("pipeline_realisation_rate", "new_revenue", "pipeline_in_period"),
    ("forecast_coverage", "pipeline_forecast", "commit_forecast"),
):
    kpi(_name, inputs=(_num, _den))(partial(Slice.ratio, num=_num, den=_den))


@kpi("pipeline_velocity", inputs=("opportunities_created", "average_deal_size", "win_rate", "sales_cycle_days_mean"))
def _pipeline_velocity(s: Slice) -> pd.Series:
    return s.combine(
        lambda n, a, w, c: div(n * a * w, c),
        ("opportunities_created", None),
        ("average_deal_size", None),
        ("win_rate", None),
        ("sales_cycle_days_mean", None),
    )


def _stage(s: Slice, stage: str | list[str], reason: str | None = None) -> pd.DataFrame:
    ev = s["lifecycle"]
    stages = [stage] if isinstance(stage, str) else stage
    keep = ev["name"].isin(stages)
    return s.once(("stage", *stages, reason), lambda: ev[keep & (ev["reason"] == reason)] if reason else ev[keep])


def _stage_count(s: Slice, stage: str | list[str], reason: str | None) -> pd.Series:
    return s.agg(_stage(s, stage, reason), "occurred_at")


LIFE = ("lifecycle_events",)
for _name, _stages, _reason in (
    ("leads_to_opportunity", "opportunity", None),
    ("sqls", "sql", None),
    ("customers_won", "customer", None),
    ("mqls", "mql", None),
    ("mql_decisions", ["accepted", "rejected"], None),
    ("mqls_accepted", "accepted", None),
    ("mqls_rejected", "rejected", None),
    ("customers_onboarded", "onboarded", None),
    ("advocates", "advocate", None),
    ("references", "advocate", "reference"),
    ("referrals", "advocate", "referral"),
    ("reviews", "advocate", "review"),
):
    kpi(_name, LIFE, additive=True)(partial(_stage_count, stage=_stages, reason=_reason))


def _convert(s: Slice, base: str | None, conv: str | list[str], days: float) -> pd.Series:
    """Conversion of lifecycle stage ``base`` (None: lead creation) into ``conv`` (``"sales touch"``: a sales
    touchpoint) within ``days``; the slice is the base event's."""

    def flags() -> pd.DataFrame:
        if base is None:
            b, bent, btime = s["leads"], "lead_id", "created_at"
        else:
            b, bent, btime = _stage(s, base), "entity_id", "occurred_at"
        if conv == "sales touch":
            tp = s["touchpoints"]
            c, cent = tp[tp["touch_type"] == "sales"], "lead_id"
        else:
            c, cent = _stage(s, conv), "entity_id"
        return converted(b, bent, btime, c, cent, "occurred_at", days)

    key = ("converted", base, *([conv] if isinstance(conv, str) else conv), days)
    return s.agg(s.once(key, flags), "t", "converted", "mean")


LEADS_LIFE = ("leads", "lifecycle_events")
kpi("lead_to_customer_rate", LEADS_LIFE)(lambda s: _convert(s, None, "customer", 365))
kpi("lead_to_opportunity_rate", LEADS_LIFE)(lambda s: _convert(s, None, "opportunity", 180))
kpi("mql_to_sql_rate", LIFE)(lambda s: _convert(s, "mql", "sql", 90))
kpi("sql_to_opportunity_rate", LIFE)(lambda s: _convert(s, "sql", "opportunity", 90))
kpi("sla_followup_compliance", ("lifecycle_events", "touchpoints"))(lambda s: _convert(s, "mql", "sales touch", 1))
kpi("sla_acceptance_compliance", LIFE)(lambda s: _convert(s, "mql", ["accepted", "rejected"], 2))
kpi("onboarding_rate", LIFE)(lambda s: _convert(s, "customer", "onboarded", 90))

# -- marketing ----------------------------------------------------------------------------------------------------
WEB = ("web_traffic",)
kpi("website_traffic", WEB, additive=True)(lambda s: s.agg(s["web_traffic"], "date", "sessions", "sum"))
kpi("website_visitors", WEB, additive=True)(lambda s: s.agg(s["web_traffic"], "date", "visitors", "sum"))
kpi("new_leads", ("leads",), additive=True)(lambda s: s.agg(s["leads"], "created_at"))


def _spend(s: Slice, departments: list[str], categories: list[str] | None = None) -> pd.Series:
    sp = s["spend"]
    keep = sp["department"].isin(departments)
    if categories:
        keep &= sp["category"].isin(categories)
    return s.agg(sp[keep], "date", "amount", "sum")


SPEND = ("spend",)
kpi("marketing_spend", SPEND, additive=True)(lambda s: _spend(s, ["marketing"]))
kpi("sales_spend", SPEND, additive=True)(lambda s: _spend(s, ["sales"]))
kpi("acquisition_spend", SPEND, additive=True)(lambda s: _spend(s, ["sales", "marketing"]))
kpi("sales_enablement_spend", SPEND, additive=True)(lambda s: _spend(s, ["sales"], ["tools", "programs"]))


def _marketing_sourced(s: Slice) -> pd.DataFrame:
    o = _nb(s)
    return s.once("marketing_sourced", lambda: o[o["lead_source"].isin(MARKETING)])


kpi("marketing_sourced_pipeline", OPP, additive=True)(
    lambda s: s.agg(_marketing_sourced(s), "created_at", "amount", "sum")
)


@kpi("marketing_sourced_revenue", OPP, additive=True)
def _marketing_sourced_revenue(s: Slice) -> pd.Series:
    w = _won_nb(s)
    return s.agg(w[w["lead_source"].isin(MARKETING)], "closed_at", "amount", "sum")


def _first_touch(s: Slice, touch_type: str) -> pd.Series:
    tp = s["touchpoints"]
    first = s.once(
        ("first_touch", touch_type),
        lambda: tp[tp["touch_type"] == touch_type].groupby("lead_id")["occurred_at"].min().to_frame(),
    )
    return first["occurred_at"]


@kpi("marketing_influenced_pipeline", OPP, additive=True)
def _marketing_influenced_pipeline(s: Slice) -> pd.Series:
    o = _nb(s)
    first = o["lead_id"].map(_first_touch(s, "marketing"))
    return s.agg(o[first.notna() & (first <= pd.to_datetime(o["created_at"]))], "created_at", "amount", "sum")


@kpi("romi", inputs=("marketing_sourced_revenue", "marketing_spend"))
def _romi(s: Slice) -> pd.Series:
    return s.combine(lambda r, p: div(r - p, p), ("marketing_sourced_revenue", None), ("marketing_spend", None))


@kpi("channel_reach", ("touchpoints",), additive=True)
def _channel_reach(s: Slice) -> pd.Series:
    tp = s["touchpoints"]
    return s.agg(tp[tp["touch_type"] == "marketing"], "occurred_at", "lead_id", "nunique")


kpi("mqls_trailing_90d", inputs=("mqls",))(lambda s: s.trailing(_stage(s, "mql"), "occurred_at", None, days=90))
kpi("marketing_sourced_pipeline_trailing_90d", inputs=("marketing_sourced_pipeline",))(
    lambda s: s.trailing(_marketing_sourced(s), "created_at", "amount", days=90)
)
kpi("new_revenue_ttm", inputs=("new_revenue",))(
    lambda s: s.trailing(_new_revenue_rows(s), "closed_at", "amount", months=12)
)
kpi("new_revenue_ytd", inputs=("new_revenue",))(
    lambda s: s.trailing(_new_revenue_rows(s), "closed_at", "amount", ytd=True)
)


# -- revops -------------------------------------------------------------------------------------------------------
@kpi("speed_to_lead_hours", ("lead_facts",))
def _speed_to_lead_hours(s: Slice) -> pd.Series:
    leads = s["leads"]
    first = leads["lead_id"].map(_first_touch(s, "sales"))
    created = pd.to_datetime(leads["created_at"])
    ok = (first.notna() & (first >= created)).to_numpy()
    rows = leads[ok].assign(hours=((first - created).dt.total_seconds() / 3600)[ok])
    return s.agg(rows, "created_at", "hours", "median")


@kpi("sales_touches", ("touchpoints",), additive=True)
def _sales_touches(s: Slice) -> pd.Series:
    tp = s["touchpoints"]
    return s.agg(tp[tp["touch_type"] == "sales"], "occurred_at")


@kpi("cac_payback_months", inputs=("acquisition_spend", "new_revenue"))
def _cac_payback_months(s: Slice) -> pd.Series:
    return s.combine(lambda a, r: div(a, r / 12), ("acquisition_spend", None), ("new_revenue", None))


kpi("ltv", inputs=("arpa", "logo_churn_rate"))(lambda s: s.combine(div, ("arpa", None), ("logo_churn_rate", None)))
kpi("ltv_to_cac", inputs=("ltv", "cac"))(lambda s: s.combine(div, ("ltv", None), ("cac", None)))


@kpi("complete_leads", ("leads",), additive=True)
def _complete_leads(s: Slice) -> pd.Series:
    leads = s["leads"]
    src, seg = leads["lead_source"], leads["segment"].astype(object)
    known = src.notna() & (src != "unknown") & (seg != NONE) & (seg != "unknown")
    new_def = leads["m_created_at"].to_numpy() >= OWNER_REQUIRED
    return s.agg(leads[known & (~new_def | leads["owner_id"].notna())], "created_at")


# -- customer -----------------------------------------------------------------------------------------------------
SUBS = ("subscriptions",)
MOVES = ("mrr_movements",)
kpi("mrr", SUBS)(lambda s: s.snapshot(s["subscriptions"], "start_date", "end_date", "mrr", "sum"))
kpi("active_customers", SUBS)(
    lambda s: s.snapshot(s["subscriptions"], "start_date", "end_date", "account_id", "nunique")
)


def _moved(s: Slice, kind: str) -> pd.Series:
    return s.agg(_moves(s, kind), "date", "amount", "sum")


def _moves(s: Slice, kind: str) -> pd.DataFrame:
    mv = s["movements"]
    return s.once(("moves", kind), lambda: mv[mv["movement"] == kind])


for _name, _kind in (
    ("new_mrr", "new"),
    ("expansion_mrr", "expansion"),
    ("contraction_mrr", "contraction"),
    ("churned_mrr", "churn"),
):
    kpi(_name, MOVES, additive=True)(partial(_moved, kind=_kind))
kpi("customers_churned", MOVES, additive=True)(lambda s: s.agg(_moves(s, "churn"), "date"))
kpi("churned_mrr_ttm", inputs=("churned_mrr",))(lambda s: s.trailing(_moves(s, "churn"), "date", "amount", months=12))
kpi("logo_retention_rate", inputs=("logo_churn_rate",))(lambda s: 1 - s.ref("logo_churn_rate"))


@kpi("net_revenue_retention", inputs=("mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"))
def _net_revenue_retention(s: Slice) -> pd.Series:
    return s.combine(
        lambda m, e, c, ch: div(m + e - c - ch, m),
        ("mrr", None),
        ("expansion_mrr", None),
        ("contraction_mrr", None),
        ("churned_mrr", None),
    )


# -- IDC scorecard ------------------------------------------------------------------------------------------------
def _headcount(s: Slice, departments: list[str]) -> pd.Series:
    u = s["users"]
    return s.snapshot(u[u["department"].isin(departments)], "hired_at", None, None, "count")


kpi("revenue_team_headcount", ("users",))(lambda s: _headcount(s, ["sales", "marketing"]))
kpi("sales_headcount", ("users",))(lambda s: _headcount(s, ["sales"]))


def _score(s: Slice, left: str, right: str) -> pd.Series:
    return s.combine(lambda a, b: 50 * a + 50 * b, (left, False), (right, False))


kpi("sales_enablement_score", inputs=("enablement_spend_share", "win_rate"))(
    lambda s: _score(s, "enablement_spend_share", "win_rate")
)
kpi("lead_management_score", inputs=("sla_followup_compliance", "mql_acceptance_rate"))(
    lambda s: _score(s, "sla_followup_compliance", "mql_acceptance_rate")
)


# -- forecasts ----------------------------------------------------------------------------------------------------
def _opening_calls(s: Slice, category: str) -> pd.DataFrame:
    """Per owner and month: the last ``category`` call submitted before the month's first day."""

    def calls() -> pd.DataFrame:
        f = s["forecasts"]
        f = f[(f["category"] == category) & (f["period_grain"] == "month")]
        f = f[pd.to_datetime(f["submitted_at"]) < pd.to_datetime(f["period_start"])]
        f = f.sort_values(["submitted_at", "forecast_id"]).groupby(["owner_id", "period_start"]).tail(1)
        return f.assign(m_period_start=_month(f["period_start"]))

    return s.once(("calls", category), calls)


FC = ("forecasts",)
kpi("commit_forecast", FC, additive=True)(lambda s: s.agg(_opening_calls(s, "commit"), "period_start", "amount", "sum"))
kpi("pipeline_forecast", FC, additive=True)(
    lambda s: s.agg(_opening_calls(s, "pipeline"), "period_start", "amount", "sum")
)


@kpi("forecast_accuracy", inputs=("commit_forecast", "new_revenue"))
def _forecast_accuracy(s: Slice) -> pd.Series:
    return s.combine(lambda f, r: 1 - div((f - r).abs(), r), ("commit_forecast", None), ("new_revenue", None))


@kpi("forecast_bias", inputs=("commit_forecast", "new_revenue"))
def _forecast_bias(s: Slice) -> pd.Series:
    return s.combine(lambda f, r: div(f, r) - 1, ("commit_forecast", None), ("new_revenue", None))


# -- entry points -------------------------------------------------------------------------------------------------
def pandas_catalog_sliced(tables: Tables, dims: tuple[str, ...] = DIMENSIONS) -> Result:
    """Every KPI of :data:`CATALOG` at month grain for the whole company (``(kpi, None)``) and by each of
    ``dims`` it reaches (``(kpi, dim)``), from the canonical tables as pandas frames."""
    facts = Facts.prepare(tables)
    out: Result = {}
    for dim in (None, *dims):
        s = Slice(facts, dim)
        for name in CATALOG:
            if dim is None or dim in reach(name):
                out[(name, dim)] = s.ref(name)
    return out


COLUMNS: dict[str, list[str] | None] = {
    "touchpoints": ["lead_id", "occurred_at", "channel", "campaign_id", "touch_type"],
    "ledger": ["entity_type", "entity_id", "kind", "name", "reason", "occurred_at"],
}
"""Columns read from the large tables (the others are read whole)."""

TABLES_READ = (
    "accounts",
    "forecasts",
    "leads",
    "ledger",
    "opportunities",
    "quotas",
    "spend",
    "subscriptions",
    "teams",
    "touchpoints",
    "users",
    "web_traffic",
)


def read_tables(folder: Path) -> Tables:
    return {name: pd.read_parquet(folder / name, columns=COLUMNS.get(name)) for name in TABLES_READ}


def pandas_catalog(scale: str) -> dict[str, float]:
    """Benchmark entry: read the scale's Parquet files and compute the sliced catalog; rows per slice."""
    from bench.data import scale_data

    result = pandas_catalog_sliced(read_tables(scale_data(scale)))
    rows = {dim or "company": 0.0 for _, dim in result}
    for (_, dim), values in result.items():
        rows[dim or "company"] += len(values)
    return {**rows, "rows": sum(rows.values()), "kpis": float(len({k for k, _ in result}))}
