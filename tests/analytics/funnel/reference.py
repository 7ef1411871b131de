"""A plain-pandas strict funnel over lead lifecycle and opportunity stage events (independent of the Ibis code).

Used by the simulator test as the expected result and by ``bench/bench_funnel.py`` as the baseline. It follows
the documented rules for ``entity: lead``, ``order: strict``, ``recycling: continue``, ``reopened: last``:
opportunity events belong to the opportunity's lead; a ``closed_won`` counts only when it is the deal's last
close; step *i* is reached at the first step-*i* event at or after step *i-1* and within the step's window.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def lead_events(ledger: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """(key, kind, name, t) rows: lead lifecycle events, and opportunity stage events keyed by their lead."""
    lc = ledger[(ledger["entity_type"] == "lead") & (ledger["kind"] == "lifecycle")]
    lc = pd.DataFrame({"key": lc["entity_id"], "kind": "lifecycle", "name": lc["name"], "t": lc["occurred_at"]})
    st = ledger[(ledger["entity_type"] == "opportunity") & (ledger["kind"] == "stage")]
    closes = st[st["name"].isin(["closed_won", "closed_lost"])]
    last = closes.groupby("entity_id")["occurred_at"].max().rename("last_close")
    st = st.join(last, on="entity_id")
    st = st[~st["name"].isin(["closed_won", "closed_lost"]) | (st["occurred_at"] == st["last_close"])]
    st = st.merge(opportunities[["opportunity_id", "lead_id"]], left_on="entity_id", right_on="opportunity_id")
    st = st[st["lead_id"].notna()]
    st = pd.DataFrame({"key": st["lead_id"], "kind": "stage", "name": st["name"], "t": st["occurred_at"]})
    return pd.concat([lc, st], ignore_index=True)


def strict_reach(events: pd.DataFrame, steps: Sequence[tuple[str, str, float | None]]) -> pd.DataFrame:
    """Reach time per lead and step: columns key, t0 … t{n-1}. ``steps`` = (kind, name, window_days | None)."""
    kind, name, _ = steps[0]
    first = events[(events["kind"] == kind) & (events["name"] == name)].groupby("key")["t"].min()
    out = first.rename("t0").to_frame()
    prev = first.rename("prev").reset_index()
    for i, (kind, name, window) in enumerate(steps[1:], start=1):
        ev = events.loc[(events["kind"] == kind) & (events["name"] == name), ["key", "t"]]
        j = prev.merge(ev, on="key")
        ok = j["t"] >= j["prev"]
        if window is not None:
            ok &= (j["t"] - j["prev"]) <= pd.Timedelta(days=window)
        reached = j[ok].groupby("key")["t"].min()
        out[f"t{i}"] = reached
        prev = reached.rename("prev").reset_index()
    return out.reset_index()


def cohort_counts(reach: pd.DataFrame, dims: pd.DataFrame | None, n_steps: int, freq: str = "M") -> pd.DataFrame:
    """Entities reaching each step per entry cohort (and the columns of ``dims``, indexed by key)."""
    frame = reach.copy()
    frame["cohort"] = frame["t0"].dt.to_period(freq).dt.start_time.dt.date
    keys = ["cohort"]
    if dims is not None:
        frame = frame.join(dims, on="key")
        keys += list(dims.columns)
    counts = frame.groupby(keys, dropna=False)[[f"t{i}" for i in range(n_steps)]].count()
    return counts.rename(columns={f"t{i}": i for i in range(n_steps)})
