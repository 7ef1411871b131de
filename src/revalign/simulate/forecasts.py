"""Forecast submissions: every AE calls each month and each quarter from their pipeline, with a known bias.

The schedule (one :class:`Schedule` for the whole company) has, for every month and every quarter of the
simulation, a draft call a week before the period starts, the opening call on the day before it starts, and an
update every Monday inside the period (a rep skips an update now and then, never the opening call).

What a call is based on. At a call's information time ``s`` (the start of its day), for the rep's new-business
deals (current owner, current amount) whose close would fall in the period ``P``:

- ``won``: deals already won in ``P`` before ``s``;
- ``expected_open``: for deals open at ``s``, ``amount × P(won | still open at s)``, counting the deal when its
  won-path close time (creation + the five stage durations) lies in ``P``. The rep knows each deal's timing but
  not its outcome; the posterior uses the deal's true win probability and the configured lost-at-stage mix;
- ``future``: deals not yet created at ``s`` that would close in ``P`` if won, at ``amount × P(won)`` (a
  perfectly calibrated run-rate);
- ``open_due``: the unweighted amount of the open deals due in ``P``.

``honest = won + expected_open + future`` is the conditional expectation of the rep's new revenue in ``P`` given
the timing of every deal, so the realised revenue scatters around it with mean zero. The rep then submits

- ``commit = (1 + bias_rep) × honest × noise`` (noise lognormal, mean 1, sd ≈ 5 %),
- ``best_case = (1 + bias_rep) × (honest + ½ × (open_due − expected_open)) × noise``,
- ``pipeline = won + open_due`` (the CRM's roll-up: no judgement, no bias),

rounded to hundreds. ``bias_rep`` is the ground truth (``ground_truth.json``: ``reps.forecast``): about a
quarter of AEs sandbag (−35 % … −15 %), a quarter are over-optimistic (+15 % … +45 %), the rest are calibrated
(−4 % … +4 %). So the KPI ``forecast_bias`` by owner recovers ``bias_rep`` up to the sampling noise of revenue.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from revalign.simulate.company import HOUR, Calendar, Org
from revalign.simulate.config import SimulationConfig
from revalign.simulate.writer import canonical, dates, ids, timestamps

BASIS = ("won", "expected_open", "future", "open_due", "actual")
"""Per call slot and AE, summed over chunks: the parts of a call, and the realised revenue of its period."""
STYLES = {"sandbagger": (-0.35, -0.15), "calibrated": (-0.04, 0.04), "optimist": (0.15, 0.45)}
DRAFT_DAYS_BEFORE = 7
NOISE_SD = 0.05
SKIP_UPDATE_RATE = 0.1


@dataclass(frozen=True)
class Schedule:
    """Call slots: for each, the period (grain, first day, end day exclusive) and the information day."""

    grain: np.ndarray  # "month" / "quarter"
    lo: np.ndarray  # first day of the period (day index)
    hi: np.ndarray  # day after its last day
    day: np.ndarray  # information time: the start of the call's day (may be before the simulation start)
    kind: np.ndarray  # "draft", "opening", "update"

    def __len__(self) -> int:
        return len(self.lo)


def schedule(cal: Calendar) -> Schedule:
    """Draft and opening calls before each month and quarter, and a Monday update inside it."""
    months = np.r_[cal.month_start, cal.days]
    periods = [("month", int(a), int(b)) for a, b in itertools.pairwise(months)]
    periods += [("quarter", int(a), int(b)) for a, b in zip(cal.quarter_start, cal.quarter_end, strict=True)]
    weekday0 = cal.start.weekday()
    rows: list[tuple[str, int, int, int, str]] = []
    for grain, lo, hi in periods:
        rows.append((grain, lo, hi, lo - DRAFT_DAYS_BEFORE, "draft"))
        rows.append((grain, lo, hi, lo - 1, "opening"))
        rows += [(grain, lo, hi, d, "update") for d in range(lo + 1, hi) if (d + weekday0) % 7 == 0]
    cols = list(zip(*rows, strict=True))
    return Schedule(
        grain=np.array(cols[0]),
        lo=np.array(cols[1], dtype=np.float64),
        hi=np.array(cols[2], dtype=np.float64),
        day=np.array(cols[3], dtype=np.float64),
        kind=np.array(cols[4]),
    )


def pipeline_basis(
    cfg: SimulationConfig,
    sched: Schedule,
    ae_pos: np.ndarray,
    n_ae: int,
    *,
    created: np.ndarray,
    stage_days: np.ndarray,
    closed_at: np.ndarray,
    won: np.ndarray,
    win_p: np.ndarray,
    amount: np.ndarray,
) -> dict[str, np.ndarray]:
    """This chunk's part of every call: ``{part: [slot, ae]}`` for the parts in :data:`BASIS`.

    ``ae_pos`` is each deal owner's position among AEs; ``stage_days`` the five stage durations per deal;
    ``closed_at`` the real close time (NaN while open at the end); ``won`` whether it was won.
    """
    out = {k: np.zeros((len(sched), n_ae)) for k in BASIS}
    if len(created) == 0:
        return out
    cum = created[:, None] + np.cumsum(stage_days, axis=1)  # [m, 5]: close time when lost after stage k, or won
    t_won = cum[:, 4]
    lost_p = np.asarray(cfg.lost_at_stage, dtype=np.float64)
    closed_t = np.where(np.isnan(closed_at), np.inf, closed_at)
    won_closed = won & np.isfinite(closed_t)
    for key in dict.fromkeys(zip(sched.grain, sched.lo, sched.hi, strict=True)):  # periods, in schedule order
        _, lo, hi = key
        slots = np.flatnonzero((sched.grain == key[0]) & (sched.lo == lo) & (sched.hi == hi))
        due = (t_won >= lo) & (t_won < hi)
        won_in = won_closed & (closed_t >= lo) & (closed_t < hi)
        rel = np.flatnonzero(due | won_in)
        if len(rel) == 0:
            continue
        owner = ae_pos[rel]
        d_due, d_won_in = due[rel], won_in[rel]
        c_t, a, w, cum_r = created[rel], amount[rel], win_p[rel], cum[rel]
        cl = closed_t[rel]
        out["actual"][slots] += np.bincount(owner, weights=a * d_won_in, minlength=n_ae)[None, :]
        for s_i in slots:
            s = sched.day[s_i]
            done = d_won_in & (cl < s)
            is_open = (c_t < s) & (cl >= s)
            alive_won = w * (cum_r[:, 4] > s)
            alive_lost = (1.0 - w) * ((cum_r > s) @ lost_p)
            posterior = np.divide(alive_won, alive_won + alive_lost, out=np.zeros_like(w), where=alive_won > 0)
            parts = {
                "won": a * done,
                "expected_open": a * posterior * (is_open & d_due),
                "future": a * w * ((c_t >= s) & d_due),
                "open_due": a * (is_open & d_due),
            }
            for name, weights in parts.items():
                out[name][s_i] += np.bincount(owner, weights=weights, minlength=n_ae)
    return out


def rep_biases(n_ae: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(style name per AE, bias per AE): a quarter sandbag, a quarter are optimistic, the rest calibrated."""
    n_sand = max(1, round(0.25 * n_ae))
    n_opt = max(1, round(0.25 * n_ae)) if n_ae > 1 else 0
    style = np.full(n_ae, "calibrated", dtype=object)
    order = rng.permutation(n_ae)
    style[order[:n_sand]] = "sandbagger"
    style[order[n_sand : n_sand + n_opt]] = "optimist"
    lo = np.array([STYLES[s][0] for s in style])
    hi = np.array([STYLES[s][1] for s in style])
    return style, np.round(rng.uniform(lo, hi), 3)


def forecasts_table(
    cfg: SimulationConfig,
    org: Org,
    sched: Schedule,
    basis: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> tuple[pa.Table, dict[str, Any]]:
    """The ``forecasts`` table (three categories per call) and the forecast part of the ground truth."""
    n_ae = len(org.ae)
    style, bias = rep_biases(n_ae, rng)
    n_slots = len(sched)
    slot = np.repeat(np.arange(n_slots), n_ae)
    rep = np.tile(np.arange(n_ae), n_slots)
    keep = ~((sched.kind[slot] == "update") & (rng.random(len(slot)) < SKIP_UPDATE_RATE))
    slot, rep = slot[keep], rep[keep]
    m = len(slot)
    won, exp_open, future, open_due = (basis[k][slot, rep] for k in ("won", "expected_open", "future", "open_due"))
    honest = won + exp_open + future
    factor = 1.0 + bias[rep]
    noise = np.exp(NOISE_SD * rng.standard_normal((2, m)) - NOISE_SD**2 / 2)
    commit = np.round(factor * honest * noise[0], -2)
    best = np.round(factor * (honest + 0.5 * (open_due - exp_open)) * noise[1], -2)
    pipeline = np.round(won + open_due, -2)
    hours = np.where(sched.kind[slot] == "update", rng.uniform(9.0, 12.0, m), rng.uniform(9.0, 18.0, m))
    submitted = np.round((sched.day[slot] + hours * HOUR) * 1440.0) / 1440.0  # to the minute
    recorded = submitted + rng.uniform(0.5, 6.0, m) * HOUR

    # three rows per call, ordered by period grain, period, submission time, rep and category
    order = np.lexsort((rep, submitted, sched.lo[slot], sched.grain[slot] == "quarter"))
    cats = ("commit", "best_case", "pipeline")
    rows = np.repeat(order, len(cats))
    cat = np.tile(np.arange(len(cats)), m)
    amount = np.stack([commit, best, pipeline], axis=1)[order].ravel()
    user = org.ae[rep[rows]]
    team_ids = org.users.column("team_id").to_numpy(zero_copy_only=False)
    # superseded_at: the next call by the same rep for the same period and category (rows are in that order)
    series = np.stack([sched.grain[slot[rows]] == "quarter", sched.lo[slot[rows]], rep[rows], cat], axis=1)
    by_series = np.lexsort((submitted[rows], *series.T[::-1]))
    same_next = np.r_[np.all(series[by_series][1:] == series[by_series][:-1], axis=1), False]
    nxt = np.full(len(rows), np.nan)
    nxt[by_series[:-1][same_next[:-1]]] = submitted[rows][by_series[1:][same_next[:-1]]]
    table = canonical(
        "forecasts",
        {
            "forecast_id": ids("F", np.arange(1, len(rows) + 1), 8),
            "owner_id": org.user_ids[user].tolist(),
            "team_id": team_ids[user].tolist(),
            "period_start": dates(sched.lo[slot[rows]], cfg.start),
            "period_grain": sched.grain[slot[rows]].tolist(),
            "category": [cats[c] for c in cat],
            "amount": amount,
            "submitted_at": timestamps(submitted[rows], cfg.start),
            "superseded_at": timestamps(nxt, cfg.start),
            "recorded_at": timestamps(recorded[rows], cfg.start),
        },
        length=len(rows),
    )
    truth = {
        "model": "commit = (1 + bias) x E[new revenue of the period | every deal's timing, not its outcome] x "
        "noise (lognormal, mean 1, sd 5%), rounded to 100; best_case adds half the open pipeline's upside; "
        "pipeline = won + open pipeline due (no bias). See revalign.simulate.forecasts.",
        "noise_sd": NOISE_SD,
        "reps": [
            {
                "user_id": str(org.user_ids[u]),
                "team_id": str(team_ids[u]),
                "style": str(style[k]),
                "bias": float(bias[k]),
            }
            for k, u in enumerate(org.ae)
        ],
    }
    return table, truth
