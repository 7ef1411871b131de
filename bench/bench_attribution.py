"""Exact Markov attribution against ChannelAttribution's ``markov_model``, on the simulated company.

Data: the simulated company at the requested scale (``bench.data``), loaded into a DuckDB file once (setup,
not timed). Conversion: new-business opportunity creation, lookback 730 days (the whole history), so every
lead is one journey (about 1M at scale l).

- On the same path table (the target of issue #6: "at least 10× faster than ChannelAttribution on the same
  paths, while exact"): revalign's exact first-order fit (``MarkovAttribution.fit``) against
  ChannelAttribution 2.2.5 ``markov_model`` at its defaults and at ``nsim_start=1e7, max_step=1000`` (the
  setting that brings it within 1% of the exact answer). Reading the Parquet file is not timed for either;
  each timing is the median of separate fresh processes.
- End to end from the raw touchpoints (ChannelAttribution has no equivalent: it needs the path table):
  journeys and the path table built by Ibis on DuckDB, then the fit; and engine-side transition counts straight
  from each lead's ordered touches (``journey_transition_counts``: one window over the touch table, then a join
  to the conversions' lookback windows; no journey is built), then ``fit_transitions`` on that 100-row table.
- Accuracy: each one's credited conversions against the exact solution (max relative error over channels with
  at least 1% of conversions); the exact solve is itself checked to 1e-9 against an independent solver in
  ``tests/analytics/attribution/test_markov.py``.
- Recovery: every model's total absolute share error against the simulator's true incremental conversions
  per channel (lower is better; 0 = perfect).
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import pandas as pd

from bench.measure import Measurement, measure, table
from revalign.analytics.attribution import (
    JourneyOptions,
    MarkovAttribution,
    attribution_credit,
    journey_touches,
    journey_transition_counts,
    path_counts,
)
from revalign.engine import connect
from revalign.model.access import Tables

with contextlib.redirect_stdout(io.StringIO()):  # its import prints a banner
    try:
        import ChannelAttribution as ca  # GPL-3: a benchmark-only dependency (extra "crosscheck")
    except ImportError:  # pragma: no cover
        ca = None

TITLE = "Attribution (exact Markov vs ChannelAttribution)"
CONVERSION, LOOKBACK = "opportunity", 730


def revalign_markov(db: str) -> dict:
    """End to end via the path table: journeys + path aggregation on the engine, exact Markov fit."""
    engine = connect(f"duckdb://{db}")
    paths = engine.execute(
        path_counts(journey_touches(Tables(engine), JourneyOptions(conversion=CONVERSION, lookback_days=LOOKBACK)))
    )
    credit = MarkovAttribution(order=1).fit(paths).credit()
    engine.close()
    return {
        "credit": dict(zip(credit.channel, credit.conversions, strict=True)),
        "paths": len(paths),
        "journeys": float(paths.conversions.sum() + paths.nulls.sum()),
    }


def revalign_markov_transitions(db: str) -> dict:
    """End to end via engine transition counts: journeys + transition counting on the engine, exact fit."""
    engine = connect(f"duckdb://{db}")
    options = JourneyOptions(conversion=CONVERSION, lookback_days=LOOKBACK)
    counts = engine.execute(journey_transition_counts(Tables(engine), options))
    credit = MarkovAttribution(order=1).fit_transitions(counts).credit()
    engine.close()
    return {"credit": dict(zip(credit.channel, credit.conversions, strict=True)), "transitions": len(counts)}


def revalign_markov_fit(paths_file: str) -> dict:
    """The exact solve alone, on the same path table ChannelAttribution gets (reading it is not timed)."""
    import time

    paths = pd.read_parquet(paths_file)
    start = time.perf_counter()
    credit = MarkovAttribution(order=1).fit(paths).credit()
    return {"credit": dict(zip(credit.channel, credit.conversions, strict=True)), "s": time.perf_counter() - start}


def channelattribution_markov(paths_file: str, nsim_start: float, max_step: int | None) -> dict:
    """Baseline: ChannelAttribution's simulation-based Markov model on the same (aggregated) paths."""
    import time

    paths = pd.read_parquet(paths_file)
    start = time.perf_counter()
    res = ca.markov_model(
        paths,
        "path",
        "conversions",
        var_null="nulls",
        nsim_start=nsim_start,
        max_step=max_step,
        verbose=False,
        flg_pro=False,
    )
    return {"credit": dict(zip(res.channel_name, res.total_conversions, strict=True)), "s": time.perf_counter() - start}


def timed(label: str, target: str, *args, runs: int) -> tuple[Measurement, float]:
    """Median of the function's own timer (``result["s"]``) over ``runs`` fresh processes."""
    parts = [measure(label, target, *args, runs=1) for _ in range(runs)]
    seconds = statistics.median(p.result["s"] for p in parts)
    peak = max(p.peak_mib for p in parts)
    return Measurement(label, [p.result["s"] for p in parts], peak, parts[-1].result), seconds


def _max_rel_error(credit: dict, exact: dict) -> tuple[float, str]:
    ex = pd.Series(exact)
    big = ex[ex >= 0.01 * ex.sum()]
    got = pd.Series(credit).reindex(big.index).fillna(0.0)
    rel = (got - big).abs() / big
    return float(rel.max()), str(rel.idxmax())


def _recovery(db: str, truth_file: Path) -> list[dict]:
    truth_json = json.loads(truth_file.read_text())
    truth = pd.Series({c: v["incremental_conversions"] for c, v in truth_json["channels"].items()})
    engine = connect(f"duckdb://{db}")
    credit = attribution_credit(Tables(engine), conversion=CONVERSION, lookback_days=LOOKBACK)
    engine.close()
    rows = []
    for model, part in credit.groupby("model", sort=False):
        c = part.set_index("key")["conversions"]
        total = c.sum()
        err = (c.reindex(truth.index, fill_value=0.0) / total - truth / truth.sum()).abs().sum()
        err += c.drop(truth.index, errors="ignore").sum() / total
        rows.append({"model": model, "total abs. share error vs truth": f"{err:.3f}"})
    return rows


def prepare(db: str, paths_file: str, scale: str) -> None:
    """Setup (not timed): the company into a DuckDB file, and the path table every solver gets as Parquet."""
    from bench.data import load_scale

    engine = connect(f"duckdb://{db}")
    load_scale(engine, scale)
    paths = engine.execute(
        path_counts(journey_touches(Tables(engine), JourneyOptions(conversion=CONVERSION, lookback_days=LOOKBACK)))
    )
    engine.close()
    paths.to_parquet(paths_file)


def main(scale: str = "l", runs: int = 3) -> str:
    from bench.data import scale_data

    work = Path(tempfile.mkdtemp(prefix="revalign-bench-attr-"))
    db, paths_file = str(work / "company.duckdb"), str(work / "paths.parquet")
    # in a child process: a forked child starts with its parent's resident size as its peak, so the parent
    # must not hold the company or the path table while the measured children are started
    measure("setup", "bench.bench_attribution:prepare", db, paths_file, scale, runs=1)

    fit, fit_s = timed("revalign fit", "bench.bench_attribution:revalign_markov_fit", paths_file, runs=runs)
    exact = fit.result["credit"]
    target = "bench.bench_attribution:channelattribution_markov"
    base, base_s = timed("ChannelAttribution defaults", target, paths_file, 1e5, None, runs=runs)
    precise, precise_s = timed("ChannelAttribution precise", target, paths_file, 1e7, 1000, runs=1)
    e2e = measure("revalign end to end, paths", "bench.bench_attribution:revalign_markov", db, runs=runs)
    e2e_t = measure(
        "revalign end to end, transitions", "bench.bench_attribution:revalign_markov_transitions", db, runs=runs
    )
    for m, sec in ((fit, fit_s), (base, base_s), (precise, precise_s), (e2e, e2e.median), (e2e_t, e2e_t.median)):
        print(m.label, f"{sec:.2f} s", m.seconds, f"{m.peak_mib:.0f} MiB", file=sys.stderr, flush=True)
    recovery = _recovery(db, scale_data(scale) / "ground_truth.json")
    shutil.rmtree(work, ignore_errors=True)  # the DuckDB copy of the company (hundreds of MB at scale l)

    def err_of(m) -> str:
        err, where = _max_rel_error(m.result["credit"], exact)
        return f"{err:.2%} ({where})"

    def row(what: str, m: Measurement, seconds: float, err: str) -> dict:
        return {
            "what": what,
            "median s": f"{seconds:.2f}",
            "CA defaults ÷ this": f"{base_s / seconds:.1f}×",
            "CA tight ÷ this": f"{precise_s / seconds:.1f}×",
            "peak MiB": f"{m.peak_mib:,.0f}",
            "max rel. error vs exact (channels ≥1%)": err,
        }

    assert err_of(e2e).startswith("0.00%") and err_of(e2e_t).startswith("0.00%"), "the exact paths disagree"
    rows = [
        row("**revalign exact Markov on the path table** (`MarkovAttribution.fit`)", fit, fit_s, "0 (exact)"),
        row("ChannelAttribution markov_model, defaults (nsim 1e5)", base, base_s, err_of(base)),
        row(
            f"ChannelAttribution, nsim_start=1e7, max_step=1000 ({len(precise.seconds)} run)",
            precise,
            precise_s,
            err_of(precise),
        ),
        row("revalign end to end: Ibis journeys + path table on DuckDB, then `fit`", e2e, e2e.median, err_of(e2e)),
        row(
            "revalign end to end: Ibis journeys + transition counts on DuckDB, then `fit_transitions`",
            e2e_t,
            e2e_t.median,
            err_of(e2e_t),
        ),
    ]
    ratios = (("the accurate setting", precise_s / fit_s), ("the defaults", base_s / fit_s))
    met = [name for name, ratio in ratios if ratio >= 10]
    target_line = (
        f"The 10× target is met against {' and against '.join(met)}" + ("." if len(met) == 2 else ", not the defaults.")
        if met
        else "The 10× target is not met."
    )
    verdict = (
        f"On the same path table the exact fit takes {fit_s:.2f} s: {precise_s / fit_s:.1f}× faster than "
        f"ChannelAttribution at the setting that makes it accurate (nsim_start=1e7, max_step=1000) and "
        f"{base_s / fit_s:.1f}× faster than its defaults (which err by up to {err_of(base).split(' ')[0]}). "
        f"{target_line} End to end from the raw touchpoints to the credit, via engine transition counts, takes "
        f"{e2e_t.median:.2f} s, {e2e_t.median / precise_s:.2f}× ChannelAttribution's accurate run on the already "
        f"built path table (issue #20's target: at most 0.33×; {'met' if e2e_t.median * 3 <= precise_s else 'not met'}"
        "). Most of that time is the engine sorting every touch by lead and time for the one window; "
        "ChannelAttribution has no end-to-end equivalent.\n\n"
    )
    intro = (
        f"{e2e.result['journeys']:,.0f} journeys ({CONVERSION} conversions, {LOOKBACK}-day lookback) → "
        f"{e2e.result['paths']:,} distinct paths ({e2e_t.result['transitions']} distinct transitions), "
        f"{len(exact)} channels. The first three rows start from the same finished path table (reading it is "
        "not timed); times are medians over fresh processes. ChannelAttribution simulates; at its defaults a "
        "simulated path stops after as many steps as the longest observed path (`max_step`), which biases "
        "channels that sit in loops; `max_step=1000` removes that bias.\n\n"
    )
    rec = (
        "\nRecovery of the simulator's true incremental conversions per channel (share error "
        "Σ|model share − true share|; lower is better):\n\n"
    )
    return intro + table(rows) + "\n" + verdict + rec + table(recovery)


if __name__ == "__main__":  # pragma: no cover
    print(main(sys.argv[1] if len(sys.argv) > 1 else "s", runs=1))
