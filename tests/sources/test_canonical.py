"""The identity mapping: the simulator's Parquet folder loads into the same canonical tables, unchanged."""

from __future__ import annotations

import pandas as pd
import pyarrow.dataset as ds
import pytest

from revalign.engine import connect
from revalign.model.tables import TABLES
from revalign.sources import ingest, quarantined


@pytest.fixture(scope="module")
def sim_folder(tmp_path_factory):
    from revalign.simulate import simulate_to_parquet

    folder = tmp_path_factory.mktemp("sim")
    simulate_to_parquet(folder, scale="xs", seed=3)
    return folder


def _parquet(folder, name: str) -> pd.DataFrame:
    return ds.dataset(str(folder / name), format="parquet").to_table().to_pandas()


def test_simulator_output_round_trips_through_the_canonical_mapping(sim_folder):
    engine = connect("duckdb://:memory:")
    report = ingest(engine, sim_folder, "canonical")
    assert quarantined(engine).empty
    for name in TABLES:
        if not (sim_folder / name).exists():
            continue
        expected = _parquet(sim_folder, name)
        stored = int(engine.execute(engine.table(name).count())) if engine.has_table(name) else 0  # empty: scores
        assert stored == len(expected), name
    leads = engine.table("leads")
    got = engine.execute(leads.group_by("lead_source").agg(n=leads.count())).set_index("lead_source")["n"]
    assert (
        got.sort_index().to_dict() == _parquet(sim_folder, "leads")["lead_source"].value_counts().sort_index().to_dict()
    )
    opps = _parquet(sim_folder, "opportunities")
    assert engine.execute(engine.table("opportunities").amount.sum()) == pytest.approx(opps["amount"].sum())
    won = engine.execute(engine.table("opportunities").is_won.sum())
    assert won == opps["is_won"].sum()
    # the simulator's ledger keeps its own event ids and times; nothing is added on top of it
    ledger = _parquet(sim_folder, "ledger")
    stored = engine.execute(engine.table("ledger")).set_index("event_id").sort_index()
    assert set(stored.index) == set(ledger["event_id"])
    assert (stored.loc[ledger["event_id"], "occurred_at"].to_numpy() == ledger["occurred_at"].to_numpy()).all()
    assert report.events_added == len(ledger)
    assert ingest(engine, sim_folder, "canonical").skipped_as_duplicate
    engine.close()
