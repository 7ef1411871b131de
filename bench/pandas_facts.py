"""The canonical tables as the pandas catalog reads them: filtered, with month/day keys and dimension columns.

How a row gets a dimension is read from the semantic models (src/revalign/definitions/kpis/default/
semantic_models/), once per table, before any KPI is computed: each fact table carries a categorical column per
dimension it reaches. ``channel`` is the opportunity's or lead's ``lead_source`` but a touchpoint's own
``channel``; ``campaign`` of an opportunity is its lead's; ``team`` is the owner's team; ``region`` of quotas,
users and forecasts is the owner's team's; lifecycle events and touchpoints reach the rest through their lead;
subscriptions and MRR movements reach segment, region, owner and team through the account. A missing dimension
value is its own slice, ``(none)``. No revalign code is imported: this is the baseline and an oracle.

Leads are keyed by their row in leads (a float, NaN for none), so touches, lifecycle events and opportunities
meet on integers rather than id strings. A lead id that leads does not hold is read as no lead: revalign would
still match such ids between touches and lifecycle events in a conversion (the simulator makes none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

DIMENSIONS = ("channel", "campaign", "segment", "region", "team", "owner")
NONE = "(none)"

Tables = dict[str, pd.DataFrame]

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


def month_start(values: pd.Series) -> np.ndarray:
    return pd.to_datetime(values).to_numpy().astype("datetime64[M]").astype("datetime64[ns]")


def day_start(values: pd.Series) -> np.ndarray:
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
        leads["m_created_at"] = month_start(leads["created_at"])
        leads["lead"] = np.arange(len(leads), dtype=float)
        lead_index = pd.Index(leads["lead_id"])

        def lead_dims(df: pd.DataFrame, col: str, own: tuple[str, ...] = ()) -> None:
            """The lead's dimensions, and ``lead``: its row in leads as a float key (NaN: none or unknown)."""
            pos = lead_index.get_indexer(df[col])
            df["lead"] = np.where(pos >= 0, pos, np.nan)
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
        lead_dims(o, "lead_id", own=("channel", "segment", "region", "owner", "team"))
        for col in ("created_at", "closed_at", "close_date"):
            o[f"m_{col}"] = month_start(o[col])
        o["d_created_at"], o["d_closed_at"] = day_start(o["created_at"]), day_start(o["closed_at"])

        led = t["ledger"]
        ev = led.loc[(led["entity_type"] == "lead") & (led["kind"] == "lifecycle"), ["entity_id", "name", "reason"]]
        ev = ev.assign(occurred_at=pd.to_datetime(led.loc[ev.index, "occurred_at"]))
        lead_dims(ev, "entity_id")
        ev["m_occurred_at"], ev["d_occurred_at"] = month_start(ev["occurred_at"]), day_start(ev["occurred_at"])

        tp = t["touchpoints"][["lead_id", "occurred_at", "channel", "campaign_id", "touch_type"]].copy()
        tp["occurred_at"] = pd.to_datetime(tp["occurred_at"])
        tp["channel"], tp["campaign"] = _cat(tp["channel"]), _cat(tp["campaign_id"])
        tp["touch_type"] = tp["touch_type"].astype("category")
        lead_dims(tp, "lead_id", own=("channel", "campaign"))
        tp = tp.drop(columns=["lead_id", "campaign_id"])
        tp["m_occurred_at"] = month_start(tp["occurred_at"])

        frames = {"leads": leads, "opportunities": o, "lifecycle": ev, "touchpoints": tp}
        for name in ("spend", "web_traffic"):
            df = t[name].copy()
            df["channel"], df["campaign"] = _cat(df["channel"]), _cat(df["campaign_id"])
            df["m_date"] = month_start(df["date"])
            frames[name] = df
        q = t["quotas"].copy()
        owner_dims(q, "user_id")
        q["m_period_start"] = month_start(q["period_start"])
        u = users.copy()
        owner_dims(u, "user_id")
        f = t["forecasts"].copy()
        owner_dims(f, "owner_id")
        s = t["subscriptions"].copy()
        account_dims(s)
        mv = movements(s)
        account_dims(mv)
        mv["m_date"], mv["d_date"] = month_start(mv["date"]), day_start(mv["date"])
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
