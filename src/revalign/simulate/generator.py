"""Running the simulation: the company's fixed parts once, then leads chunk by chunk, into a sink.

Each chunk draws from its own random stream (``SeedSequence([seed, 1, chunk])``), so a chunk's rows depend
only on the seed and the chunk number, and memory is bounded by the chunk size whatever the scale. The
in-memory API (:func:`simulate`) and the Parquet writer (:func:`simulate_to_parquet`) run the same code with
a different sink, so both produce the same rows.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from revalign.model.tables import TABLES
from revalign.simulate.company import Calendar, build_marketing, build_org, quotas_table, spend_table, web_traffic_table
from revalign.simulate.config import Scale, SimulationConfig, get_scale
from revalign.simulate.forecasts import BASIS, forecasts_table, schedule
from revalign.simulate.gaming import LABEL_SCHEMA
from revalign.simulate.journeys import generate_accounts, generate_journeys
from revalign.simulate.lifecycle import Counters, run_lifecycle
from revalign.simulate.truth import GroundTruth
from revalign.simulate.writer import PartWriter, empty, write_table

Sink = Callable[[str, pa.Table], None]
TRUTH_LEADS = "truth_leads"


def _rng(seed: int, *path: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *path]))


def run(
    scale: str | Scale,
    seed: int,
    sink: Sink,
    config: SimulationConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GroundTruth:
    """Generate every canonical table into ``sink(name, table)`` (many calls per table); return the truth."""
    sc = get_scale(scale)
    cfg = config or SimulationConfig()
    cal = Calendar(cfg.start, cfg.days)
    rng0 = _rng(seed, 0)
    org = build_org(cfg, sc, rng0)
    mkt = build_marketing(cfg, sc, cal, rng0)
    counters = Counters(sc.leads)
    n_chunks = max(1, math.ceil(sc.leads / sc.chunk_leads))
    stats: dict[str, np.ndarray] = {}
    won_q = np.zeros(cal.n_quarters)
    leads_by_day = np.zeros((cal.days, len(cfg.channels)))
    labels: list[pa.Table] = []
    counts: dict[str, int] = {}
    calls = schedule(cal)
    basis = {k: np.zeros((len(calls), len(org.ae))) for k in BASIS}

    def put(name: str, table: pa.Table) -> None:
        counts[name] = counts.get(name, 0) + table.num_rows
        sink(name, table)

    for chunk in range(n_chunks):
        offset = chunk * sc.chunk_leads
        n = min(sc.chunk_leads, sc.leads - offset)
        rng = _rng(seed, 1, chunk)
        acc = generate_accounts(cfg, org, n, offset, rng)
        jr = generate_journeys(cfg, sc, cal, mkt, acc, n, offset, rng)
        res = run_lifecycle(cfg, cal, org, mkt, acc, jr, counters, rng, calls)
        for name, table in res.tables.items():
            put(name, table)
        put(TRUTH_LEADS, res.truth_leads)
        labels.append(res.labels)
        for k, v in res.channel_stats.items():
            stats[k] = stats.get(k, 0) + v
        won_q += res.won_by_quarter
        leads_by_day += res.leads_by_day
        for k, v in res.forecast_basis.items():
            basis[k] += v
        if progress is not None:
            progress(chunk + 1, n_chunks)
        del acc, jr, res

    rng_end = _rng(seed, 2)
    put("users", org.users)
    put("teams", org.teams)
    put("campaigns", mkt.campaigns)
    spend = spend_table(cfg, cal, mkt, org)
    put("spend", spend)
    put("web_traffic", web_traffic_table(cfg, leads_by_day, rng_end))
    put("quotas", quotas_table(cfg, cal, org, won_q, rng_end))
    forecasts, forecast_truth = forecasts_table(cfg, org, calls, basis, _rng(seed, 3))  # own stream: adding
    put("forecasts", forecasts)  # forecasts left every other table's bytes unchanged
    for name in TABLES:  # every canonical table exists, even when this company has no rows for it
        if name not in counts:
            put(name, empty(name))

    names = cfg.channel_names
    channels: dict[str, dict[str, Any]] = {}
    for c, ch in enumerate(cfg.channels):
        channels[ch.name] = {
            "effect": ch.effect,
            "touch_type": ch.touch_type,
            "response_curve": {
                "formula": "leads/day = unit * (base * season(day) "
                "+ spend_share * (spend/daily_budget)**beta * weekday(day))",
                "unit": mkt.unit,
                "base": ch.base,
                "spend_share": ch.spend_share,
                "daily_budget": ch.daily_budget,
                "beta": ch.beta,
            },
            "spend_total": float(mkt.spend[:, c].sum()),
            "spend_by_day": np.round(mkt.spend[:, c], 2).tolist() if ch.daily_budget > 0 else [],
            "expected_leads_by_day": np.round(mkt.arrival[:, c], 4).tolist(),
            "visitor_to_lead": ch.visitor_to_lead if ch.web else None,
            **{k: float(v[c]) for k, v in stats.items() if len(v) == len(names)},
        }
    totals = {k: float(v[0]) for k, v in stats.items() if len(v) == 1}
    totals["won_new_business_amount"] = float(won_q.sum())
    label_table = pa.concat_tables(labels) if labels else LABEL_SCHEMA.empty_table()
    gamers = org.user_ids[org.ae[org.gamer]].tolist()
    return GroundTruth(
        scale=sc.name,
        seed=seed,
        start=cfg.start,
        end=cfg.start + dt.timedelta(days=cfg.days),
        config={**cfg.to_dict(), "scale": sc.__dict__},
        channels=channels,
        reps={
            "sla_hours": cfg.sla_hours,
            "followup": org.followup_truth(cfg.sla_hours),
            "lead_source_gamers": gamers,
            "forecast": forecast_truth,
        },
        counts={k: v for k, v in counts.items() if k in TABLES},
        totals=totals,
        labels=label_table,
    )


@dataclass
class SimulatedCompany:
    """A simulated company in memory: every canonical table (canonical schema) and its ground truth."""

    tables: dict[str, pa.Table]
    truth: GroundTruth

    def write(self, engine: Any) -> None:
        """Write each canonical table into ``engine`` (``engine.write(name, table, schema=…)``)."""
        for name, table in self.tables.items():
            engine.write(name, table, schema=TABLES[name].schema)

    def to_parquet(self, folder: str | Path) -> Path:
        """``folder/<table>.parquet`` for each table, ``ground_truth.json``, and the truth tables."""
        folder = Path(folder)
        for name, table in self.tables.items():
            write_table(table, folder / f"{name}.parquet")
        if self.truth.leads is not None:
            write_table(self.truth.leads, folder / "truth" / "leads.parquet")
        write_table(self.truth.labels, folder / "truth" / "labels.parquet")
        self.truth.write(folder)
        return folder


def simulate(scale: str | Scale = "s", seed: int = 0, config: SimulationConfig | None = None) -> SimulatedCompany:
    """Simulate a company in memory (for scales that fit: xs, s, m)."""
    parts: dict[str, list[pa.Table]] = {}
    truth = run(scale, seed, lambda name, t: parts.setdefault(name, []).append(t), config)
    tables = {name: pa.concat_tables(parts[name]).combine_chunks() for name in TABLES}
    truth.leads = pa.concat_tables(parts[TRUTH_LEADS]).combine_chunks()
    return SimulatedCompany(tables, truth)


def simulate_to_parquet(
    folder: str | Path,
    scale: str | Scale = "l",
    seed: int = 0,
    config: SimulationConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GroundTruth:
    """Simulate chunk by chunk into ``folder/<table>/part-NNNNN.parquet`` (bounded memory).

    Also writes ``folder/ground_truth.json``, ``folder/truth/labels.parquet`` and the per-lead truth under
    ``folder/truth/leads/``. Each table folder loads with ``engine.load_parquet(name, folder / name)``.
    """
    folder = Path(folder)
    writer = PartWriter(folder)

    def sink(name: str, table: pa.Table) -> None:
        writer.write("truth/leads" if name == TRUTH_LEADS else name, table)

    truth = run(scale, seed, sink, config, progress)
    write_table(truth.labels, folder / "truth" / "labels.parquet")
    truth.write(folder)
    return truth
