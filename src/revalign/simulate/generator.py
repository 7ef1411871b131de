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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from revalign.model.tables import TABLES
from revalign.simulate.chunk import Chunk, Counters
from revalign.simulate.company import (
    Calendar,
    Marketing,
    Org,
    build_marketing,
    build_org,
    quotas_table,
    spend_table,
    web_traffic_table,
)
from revalign.simulate.config import Scale, SimulationConfig, get_scale
from revalign.simulate.forecasts import Schedule, empty_basis, forecasts_table, schedule
from revalign.simulate.gaming import LABEL_SCHEMA
from revalign.simulate.journeys import generate_accounts, generate_journeys
from revalign.simulate.lifecycle import ChunkResult, run_lifecycle
from revalign.simulate.truth import GroundTruth
from revalign.simulate.writer import PartWriter, empty, write_table

Sink = Callable[[str, pa.Table], None]
TRUTH_LEADS = "truth_leads"
RESPONSE_CURVE = "leads/day = unit * (base * season(day) + spend_share * (spend/daily_budget)**beta * weekday(day))"


def _rng(seed: int, *path: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, *path]))


@dataclass
class _Company:
    """The company's fixed parts, generated once before the chunks from stream ``[seed, 0]``."""

    cfg: SimulationConfig
    scale: Scale
    cal: Calendar
    org: Org
    mkt: Marketing
    calls: Schedule

    @classmethod
    def build(cls, scale: str | Scale, seed: int, config: SimulationConfig | None) -> _Company:
        sc = get_scale(scale)
        cfg = config or SimulationConfig()
        cal = Calendar(cfg.start, cfg.days, cfg.annual_growth)
        rng0 = _rng(seed, 0)
        org = build_org(cfg, sc, rng0)
        mkt = build_marketing(cfg, sc, cal, rng0)
        return cls(cfg, sc, cal, org, mkt, schedule(cal))


@dataclass
class _Output:
    """The sink, and how many rows went to each table."""

    sink: Sink
    counts: dict[str, int] = field(default_factory=dict)

    def put(self, name: str, table: pa.Table) -> None:
        self.counts[name] = self.counts.get(name, 0) + table.num_rows
        self.sink(name, table)


@dataclass
class _Totals:
    """What the chunks add up to: for the tables made after them and for the ground truth."""

    won_q: np.ndarray  # won new-business amount per quarter
    leads_by_day: np.ndarray  # [day, channel]
    basis: dict[str, np.ndarray]  # forecast-call parts [slot, AE, …] (simulate.forecasts.empty_basis)
    stats: dict[str, np.ndarray] = field(default_factory=dict)
    labels: list[pa.Table] = field(default_factory=list)

    @classmethod
    def zero(cls, co: _Company) -> _Totals:
        return cls(
            won_q=np.zeros(co.cal.n_quarters),
            leads_by_day=np.zeros((co.cal.days, len(co.cfg.channels))),
            basis=empty_basis(len(co.calls), len(co.org.ae), len(co.cfg.win_intercept)),
        )

    def add(self, res: ChunkResult) -> None:
        self.labels.append(res.labels)
        for k, v in res.channel_stats.items():
            self.stats[k] = self.stats.get(k, 0) + v
        self.won_q += res.won_by_quarter
        self.leads_by_day += res.leads_by_day
        for k, v in res.forecast_basis.items():
            self.basis[k] += v


def run(
    scale: str | Scale,
    seed: int,
    sink: Sink,
    config: SimulationConfig | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> GroundTruth:
    """Generate every canonical table into ``sink(name, table)`` (many calls per table); return the truth."""
    co = _Company.build(scale, seed, config)
    out = _Output(sink)
    totals = _Totals.zero(co)
    _run_chunks(co, seed, out, totals, progress)
    forecast_truth = _company_tables(co, seed, out, totals)
    return _ground_truth(co, seed, out, totals, forecast_truth)


def _run_chunks(
    co: _Company, seed: int, out: _Output, totals: _Totals, progress: Callable[[int, int], None] | None
) -> None:
    """Leads chunk by chunk, each from its own stream ``[seed, 1, chunk]``."""
    sc = co.scale
    counters = Counters(sc.leads)
    n_chunks = max(1, math.ceil(sc.leads / sc.chunk_leads))
    for chunk in range(n_chunks):
        offset = chunk * sc.chunk_leads
        n = min(sc.chunk_leads, sc.leads - offset)
        rng = _rng(seed, 1, chunk)
        profile_rng = _rng(seed, 4, chunk)  # the recorded profiles' own stream: no other draw moves
        acc = generate_accounts(co.cfg, co.org, n, offset, rng, profile_rng)
        jr = generate_journeys(co.cfg, co.cal, co.mkt, acc, n, offset, rng, profile_rng)
        res = run_lifecycle(Chunk.open(co.cfg, co.cal, co.org, co.mkt, acc, jr, counters, rng), co.calls)
        for name, table in res.tables.items():
            out.put(name, table)
        out.put(TRUTH_LEADS, res.truth_leads)
        totals.add(res)
        if progress is not None:
            progress(chunk + 1, n_chunks)
        del acc, jr, res


def _company_tables(co: _Company, seed: int, out: _Output, totals: _Totals) -> dict[str, Any]:
    """The company-wide tables, after the chunks (traffic and quotas follow the leads); the forecast truth."""
    cfg, org, mkt = co.cfg, co.org, co.mkt
    rng_end = _rng(seed, 2)
    out.put("users", org.users)
    out.put("teams", org.teams)
    out.put("campaigns", mkt.campaigns)
    out.put("spend", spend_table(cfg, co.cal, mkt, org))
    out.put("web_traffic", web_traffic_table(cfg, totals.leads_by_day, rng_end))
    out.put("quotas", quotas_table(cfg, co.cal, org, totals.won_q, rng_end))
    # own stream: adding forecasts left every other table's bytes unchanged
    forecasts, forecast_truth = forecasts_table(cfg, org, co.calls, totals.basis, _rng(seed, 3))
    out.put("forecasts", forecasts)
    for name in TABLES:  # every canonical table exists, even when this company has no rows for it
        if name not in out.counts:
            out.put(name, empty(name))
    return forecast_truth


def _channel_truth(co: _Company, stats: dict[str, np.ndarray]) -> dict[str, dict[str, Any]]:
    """Per channel: its true effect, its response curve and spend, and the chunks' per-channel sums."""
    mkt, n_channels = co.mkt, len(co.cfg.channels)
    channels: dict[str, dict[str, Any]] = {}
    for c, ch in enumerate(co.cfg.channels):
        channels[ch.name] = {
            "effect": ch.effect,
            "touch_type": ch.touch_type,
            "response_curve": {
                "formula": RESPONSE_CURVE,
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
            **{k: float(v[c]) for k, v in stats.items() if len(v) == n_channels},
        }
    return channels


def _ground_truth(
    co: _Company, seed: int, out: _Output, totals: _Totals, forecast_truth: dict[str, Any]
) -> GroundTruth:
    cfg, org = co.cfg, co.org
    sums = {k: float(v[0]) for k, v in totals.stats.items() if len(v) == 1}
    sums["won_new_business_amount"] = float(totals.won_q.sum())
    return GroundTruth(
        scale=co.scale.name,
        seed=seed,
        start=cfg.start,
        end=cfg.start + dt.timedelta(days=cfg.days),
        config={**cfg.to_dict(), "scale": co.scale.__dict__},
        channels=_channel_truth(co, totals.stats),
        reps={
            "sla_hours": cfg.sla_hours,
            "followup": org.followup_truth(cfg.sla_hours),
            "lead_source_gamers": org.user_ids[org.ae[org.gamer]].tolist(),
            "forecast": forecast_truth,
        },
        counts={k: v for k, v in out.counts.items() if k in TABLES},
        totals=sums,
        labels=pa.concat_tables(totals.labels) if totals.labels else LABEL_SCHEMA.empty_table(),
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
