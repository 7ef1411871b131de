"""Forecast submissions: every AE calls each month and each quarter from what a CRM shows them, with a known bias.

The schedule (one :class:`Schedule` for the whole company) has, for every month and every quarter of the
simulation, a draft call a week before the period starts, the opening call on the day before it starts, and an
update every Monday inside the period (a rep skips an update now and then, never the opening call).

What a call is based on. A rep is not an oracle: at a call's information time ``s`` (the start of its day) they
see their new-business deals (current owner, current amount) as the CRM shows them then, and guess the rest:

- ``won``: deals already won in the period ``P`` before ``s``;
- ``expected_open``: the deals open at ``s`` whose CRM close date *as it stood at s* lies in ``P`` (the expected
  close date set at creation; for a deal the rep pushes quarter after quarter, the current quarter's last day; an
  overdue date counts as "next", in the period called), each at ``amount × p_rep(segment, stage at s)``.
  ``p_rep`` is the rep's *subjective* stage probability: the company's historic one (for open deals of that
  segment and stage, overdue or not, the amount won within the period per amount due in it, pooled over the
  whole history of calls of that grain: the probabilities a CRM is configured with) times a personal error per
  rep and stage (lognormal, sd :data:`STAGE_ERROR_SD`). Not the deal's true win probability, not its true
  timing: the week of the period, a deal's age, a stale or pushed close date move nothing;
- ``future``: the pipeline not yet created, from the rep's own trailing run-rate: over the last
  :data:`LOOKBACK` periods of the same grain that ended before ``s``, the average amount of the rep's deals
  created after the matching day of that period and won within it. While fewer periods lie behind (the
  simulation's first year) the missing ones take the company plan's figure (the expected amount of deals not yet
  created that would be won within ``P``), so the first calls are not all zero;
- ``open_due``: the unweighted amount of the open deals whose CRM close date is in ``P``.

``honest = won + expected_open + future`` is the rep's best guess, not the conditional expectation: it errs by
the rep's stage-probability error, by ignoring slippage and by their own history's noise, and those errors do
not cancel across reps the way their biases do. The rep then submits

- ``commit = (1 + bias_rep) × honest × noise`` (noise lognormal, mean 1, sd ≈ 5 %),
- ``best_case = (1 + bias_rep) × (honest + ½ × (open_due − expected_open)) × noise``,
- ``pipeline = won + open_due`` (the CRM's roll-up: no judgement, no bias),

rounded to hundreds. ``bias_rep`` is the ground truth (``ground_truth.json``: ``reps.forecast``): about a
quarter of AEs sandbag (−35 % … −15 %), a quarter are over-optimistic (+15 % … +45 %), the rest are calibrated
(−4 % … +4 %). So the KPI ``forecast_bias`` by owner recovers ``bias_rep`` up to the sampling noise of revenue
and the rep's honest error. The biases are drawn first from the forecasts' own stream, and the personal stage
errors from a child of it (``spawn``), so the biases are the same as before the reps became realistic.
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

STAGES = 5
LOOKBACK = 4
"""Past periods of the same grain a rep's run-rate of not-yet-created pipeline averages over."""
STAGE_ERROR_SD = 0.1
"""Sd of the log of a rep's personal error on each stage's probability."""
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


def empty_basis(n_slots: int, n_ae: int, n_seg: int) -> dict[str, np.ndarray]:
    """The parts of every call before any chunk adds to them (chunks add, so every part is a sum):

    ``won``, ``future`` (the company plan's not-yet-created figure), ``history`` (the rep's trailing run-rate
    sum), ``actual`` (the period's realised revenue): ``[slot, ae]``; ``open`` (open amount due by the CRM close
    date) and ``open_won`` (the part of it won within the period): ``[slot, ae, segment × overdue, stage]``
    (``2 × segment + overdue``: whether the close date had already passed).
    """
    flat = {k: np.zeros((n_slots, n_ae)) for k in ("won", "future", "history", "actual")}
    return {**flat, **{k: np.zeros((n_slots, n_ae, 2 * n_seg, STAGES)) for k in ("open", "open_won")}}


def past_periods(sched: Schedule, slot: int) -> list[tuple[float, float]]:
    """The up to :data:`LOOKBACK` periods of the slot's grain that lie inside the simulation and ended by the
    call's information time, latest last: the history a rep's run-rate reads."""
    grain, s = sched.grain[slot], sched.day[slot]
    same = (sched.grain == grain) & (sched.lo >= 0) & (sched.hi <= s)
    periods = sorted(set(zip(sched.lo[same].tolist(), sched.hi[same].tolist(), strict=True)))
    return periods[-LOOKBACK:]


def pipeline_basis(
    cfg: SimulationConfig,
    cal: Calendar,
    sched: Schedule,
    ae_pos: np.ndarray,
    n_ae: int,
    *,
    created: np.ndarray,
    stage_days: np.ndarray,
    entry: np.ndarray,
    entered: np.ndarray,
    closed_at: np.ndarray,
    won: np.ndarray,
    win_p: np.ndarray,
    amount: np.ndarray,
    segment: np.ndarray,
    crm_close: np.ndarray,
    pushed: np.ndarray,
) -> dict[str, np.ndarray]:
    """This chunk's part of every call (see :func:`empty_basis`).

    ``ae_pos`` is each deal owner's position among AEs; ``stage_days`` the five stage durations per deal and
    ``entry`` / ``entered`` each open stage's entry time and whether it was entered; ``closed_at`` the real close
    time (NaN while open at the end); ``won`` whether it was won; ``crm_close`` the close date the CRM held before
    any push (day index) and ``pushed`` the deals whose close date moves to each quarter's end.
    """
    n_seg = len(cfg.win_intercept)
    out = empty_basis(len(sched), n_ae, n_seg)
    if len(created) == 0:
        return out
    t_won = created + stage_days.sum(axis=1)  # the won-path close time
    closed_t = np.where(np.isnan(closed_at), np.inf, closed_at)
    won_closed = won & np.isfinite(closed_t)
    q_last = cal.quarter_end.astype(np.float64) - 1.0  # the last day of each quarter
    stage_ix = np.arange(STAGES)[None, :]
    cell = (ae_pos * n_seg + segment) * 2  # + overdue, × STAGES + stage: the flat [ae, segment, overdue, stage]
    for s_i in range(len(sched)):
        lo, hi, s = sched.lo[s_i], sched.hi[s_i], sched.day[s_i]
        won_in = won_closed & (closed_t >= lo) & (closed_t < hi)
        out["actual"][s_i] = np.bincount(ae_pos, weights=amount * won_in, minlength=n_ae)
        out["won"][s_i] = np.bincount(ae_pos, weights=amount * (won_in & (closed_t < s)), minlength=n_ae)
        due = (t_won >= lo) & (t_won < hi) & (created >= s)
        out["future"][s_i] = np.bincount(ae_pos, weights=amount * win_p * due, minlength=n_ae)
        # what the CRM shows at s: open deals, their stage then and their close date then
        is_open = (created < s) & (closed_t >= s)
        close_s = np.where(pushed, q_last[cal.quarter[int(np.clip(np.floor(s), 0, cal.days - 1))]], crm_close)
        overdue = close_s < s  # the date has passed: the rep calls it "next", at the rate of overdue deals
        crm_due = ((close_s >= lo) & (close_s < hi)) | overdue
        i = np.flatnonzero(is_open & (crm_due | won_in))
        stage = np.where(entered[i] & (entry[i] <= s), stage_ix, -1).max(axis=1)
        for part, weights in (("open", amount[i] * crm_due[i]), ("open_won", amount[i] * won_in[i])):
            flat = (cell[i] + overdue[i]) * STAGES + stage
            out[part][s_i] += np.bincount(flat, weights=weights, minlength=n_ae * n_seg * 2 * STAGES).reshape(
                n_ae, 2 * n_seg, STAGES
            )
        for p_lo, p_hi in past_periods(sched, s_i):
            day = p_lo + max(0.0, s - lo)  # the matching day of that period
            hist = won_closed & (closed_t >= p_lo) & (closed_t < p_hi) & (created >= day)
            out["history"][s_i] += np.bincount(ae_pos, weights=amount * hist, minlength=n_ae)
    return out


def stage_probabilities(sched: Schedule, basis: dict[str, np.ndarray]) -> np.ndarray:
    """``[slot, segment × overdue, stage]``: the company's historic stage probabilities, the ones a CRM is
    configured with: of the open amount in that segment and stage (close date passed or not) whose close date fell
    in the period called, the amount won
    within the period (whichever its date then), pooled over every rep and every call of the same grain (month
    or quarter) made before the period (draft, opening) or inside it (updates): a rep knows that a deal due this
    quarter converts more often when the whole quarter is ahead, not which week it is."""
    out = np.zeros((len(sched), *basis["open"].shape[2:]))
    inside = sched.kind == "update"
    for grain, during in itertools.product(np.unique(sched.grain), (False, True)):
        m = (sched.grain == grain) & (inside == during)
        opened, won = basis["open"][m].sum(axis=(0, 1)), basis["open_won"][m].sum(axis=(0, 1))
        out[m] = np.divide(won, opened, out=np.zeros_like(won), where=opened > 0)
    return out


def call_parts(sched: Schedule, basis: dict[str, np.ndarray], stage_error: np.ndarray) -> dict[str, np.ndarray]:
    """``[slot, ae]`` parts of each call from the summed basis: ``won``, ``expected_open`` (open amount due ×
    the rep's subjective stage probability), ``future`` (own trailing run-rate, the plan's figure for missing
    history) and ``open_due``. ``stage_error`` is ``[ae, stage]``, the rep's personal factor on each stage."""
    p_rep = stage_probabilities(sched, basis)[:, None, :, :] * stage_error[None, :, None, :]
    expected_open = (basis["open"] * p_rep).sum(axis=(2, 3))
    n_hist = np.array([len(past_periods(sched, i)) for i in range(len(sched))], dtype=np.float64)[:, None]
    future = (basis["history"] + (LOOKBACK - n_hist) * basis["future"]) / LOOKBACK
    return {
        "won": basis["won"],
        "expected_open": expected_open,
        "future": future,
        "open_due": basis["open"].sum(axis=(2, 3)),
    }


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
    # a child stream for the personal stage errors: drawing them leaves the biases and the rest unchanged
    error_rng = rng.spawn(1)[0]
    style, bias = rep_biases(n_ae, rng)
    parts = call_parts(sched, basis, np.exp(STAGE_ERROR_SD * error_rng.standard_normal((n_ae, STAGES))))
    n_slots = len(sched)
    slot = np.repeat(np.arange(n_slots), n_ae)
    rep = np.tile(np.arange(n_ae), n_slots)
    keep = ~((sched.kind[slot] == "update") & (rng.random(len(slot)) < SKIP_UPDATE_RATE))
    slot, rep = slot[keep], rep[keep]
    m = len(slot)
    won, exp_open, future, open_due = (parts[k][slot, rep] for k in ("won", "expected_open", "future", "open_due"))
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
        "model": "commit = (1 + bias) x (won + open deals due by their CRM close date x the rep's subjective "
        "stage probability + the rep's trailing run-rate of deals not yet created) x noise (lognormal, mean 1, "
        "sd 5%), rounded to 100; best_case adds half the open pipeline's upside; pipeline = won + open pipeline "
        "due (no bias). See revalign.simulate.forecasts.",
        "stage_error_sd": STAGE_ERROR_SD,
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
