"""The pandas catalog's registry and its one slicing: group-bys on [month] or [month, dimension].

Ratios and derived KPIs align their inputs on the union of keys (an additive input's missing key counts as 0),
conversions find each base event's next conversion with ``merge_asof``, snapshots count active rows with
cumulative sums over months, and trailing windows take cumulative sums over a dense day × slice grid. Work that
does not depend on the slice (filtered rows, first touches, conversion flags) is done once for all slices,
as a pandas engineer writing for speed would. Results are Series indexed by month (``Timestamp``, first day)
for the company and by (month, slice) otherwise, without the periods where a KPI is undefined.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import reduce

import numpy as np
import pandas as pd

from bench.pandas_facts import DIMENSIONS, REACH, Facts, month_start

Result = dict[tuple[str, str | None], pd.Series]

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
        """``fn()``, computed once for every slice (``key`` names all it depends on, the slice included if so)."""
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
    m["m_t"] = month_start(m["t"])
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
