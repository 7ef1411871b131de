"""The mapping keys that feed who and why (``modified_by``, ``reason``, ``history``): validated with file and line,
and the actor rule (a user id, name or email → the id; anything else kept as written) on its own."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from revalign.errors import ConfigError
from revalign.simulate.ledger import LedgerBuilder
from revalign.sources import ingest, load_mapping
from revalign.sources.load.diff import resolve_actors

HISTORY_TARGET = (
    "name: m\n"  # line 1
    "targets:\n"  # line 2
    "  - name: history\n"  # line 3
    "    files: [h.csv]\n"  # line 4
    "    table: ledger\n"  # line 5
    "    mode: append\n"  # line 6
    "    history: {object: O, id: I, field: F, new_value: N, changed_at: T}\n"  # line 7
)


def _mapping(tmp_path, text: str):
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return load_mapping(path), path


def test_a_history_target_writes_the_ledger_and_nothing_else(tmp_path):
    spec, _ = _mapping(tmp_path, HISTORY_TARGET)
    assert spec.targets[0].history is not None
    with pytest.raises(ConfigError, match=r"m.yaml:3: targets.0: a history target writes the ledger"):
        _mapping(tmp_path, HISTORY_TARGET.replace("table: ledger", "table: leads"))
    with pytest.raises(ConfigError, match=r"m.yaml:3: targets.0: a history target writes the ledger"):
        _mapping(tmp_path, HISTORY_TARGET + "    columns: {name: F}\n")


def test_value_maps_named_by_reason_and_history_must_exist(tmp_path):
    text = HISTORY_TARGET.replace("changed_at: T}", "changed_at: T, fields: {Lead Source: {name: lead_source, "
                                  "values: channels}}}")  # fmt: skip
    with pytest.raises(ConfigError, match=r"target history: no value map 'channels'"):
        _mapping(tmp_path, text)
    leads = (
        "name: m\ntargets:\n  - name: leads\n    files: [l.csv]\n    table: leads\n"
        "    reason: {from: Why, values: reasons}\n    columns: {lead_id: Id, created_at: Created}\n"
    )
    with pytest.raises(ConfigError, match=r"target leads: no value map 'reasons'"):
        _mapping(tmp_path, leads)
    spec, _ = _mapping(tmp_path, leads.replace("values: reasons", "values: {map: {No Opp: no_opportunity}}"))
    assert spec.targets[0].reason is not None and spec.targets[0].reason.from_ == ["Why"]


def test_actors_resolve_to_user_ids_or_stay_as_written():
    users = pd.DataFrame(
        {
            "name": ["Sam Seller", "Alex Kim", "Alex Kim", None],
            "email": ["sam@corp.example", "alex1@corp.example", "alex2@corp.example", None],
        },
        index=pd.Index(["U2", "U7", "U8", "U9"], name="user_id"),
    )
    actors = pd.Series(["U2", " sam seller", "SAM@corp.example", "Alex Kim", "alex2@corp.example", "Bot", None])
    resolved = resolve_actors(actors, users)
    assert resolved[:6].tolist() == ["U2", "U2", "U2", "Alex Kim", "U8", "Bot"] and pd.isna(resolved[6])
    assert resolve_actors(actors, users.iloc[:0]).tolist() == actors.tolist()  # no users loaded: as written


def _simulated_ledger() -> pa.Table:
    builder = LedgerBuilder(dt.date(2025, 1, 1), as_of=100.0, rng=np.random.default_rng(0))
    builder.lifecycle(pa.array(["L1", "L2"]), np.array([1.0, 2.0]), "mql")
    builder.event("lead", pa.array(["L1"]), "field", "lead_source", np.array([3.0]), old=pa.array(["email"]))
    return builder.table()


def test_simulated_events_are_exact():
    """The simulator knows when everything happened; its ledger says so."""
    assert _simulated_ledger().column("time_precision").to_pylist() == ["exact"] * 3


def test_the_canonical_mapping_keeps_the_simulators_precision(duckdb_engine, tmp_path):
    ledger = _simulated_ledger()
    pq.write_table(ledger, tmp_path / "ledger.parquet")
    ingest(duckdb_engine, tmp_path, "canonical")
    stored = duckdb_engine.execute(duckdb_engine.table("ledger"))
    assert sorted(stored["event_id"]) == sorted(ledger.column("event_id").to_pylist())
    assert set(stored["time_precision"]) == {"exact"}
