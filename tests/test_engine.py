"""The engine layer: the same write/read/aggregate round trip on every backend."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.errors import EngineError, UnknownNameError
from revalign.model.tables import LEADS


def test_round_trip_and_group_by_match_pandas(engine):
    frame = pd.DataFrame({"channel": ["a", "b", "a", "c", "a"], "amount": [1.0, 2.5, 3.0, 4.0, 0.5]})
    engine.write("facts", frame)
    t = engine.table("facts")
    got = engine.execute(t.group_by("channel").agg(total=t.amount.sum(), n=t.count())).sort_values("channel")
    expected = frame.groupby("channel").agg(total=("amount", "sum"), n=("amount", "size")).reset_index()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected, check_dtype=False)


def test_append_adds_rows_and_empty_typed_table_keeps_schema(engine):
    import pyarrow as pa

    engine.write("leads", pa.Table.from_pylist([], schema=LEADS.schema.to_pyarrow()), schema=LEADS.schema)
    assert engine.execute(engine.table("leads").count()) == 0
    assert set(engine.table("leads").columns) == set(LEADS.column_names)
    engine.write("x", pd.DataFrame({"a": [1]}))
    engine.write("x", pd.DataFrame({"a": [2, 3]}), mode="append")
    assert engine.execute(engine.table("x").a.sum()) == 6


def test_unknown_table_suggests_close_names(duckdb_engine):
    duckdb_engine.write("opportunities", pd.DataFrame({"a": [1]}))
    with pytest.raises(UnknownNameError, match="Did you mean 'opportunities'"):
        duckdb_engine.table("opportunity")


def test_unknown_url_scheme_is_a_clear_error():
    with pytest.raises(EngineError, match="Unknown engine URL"):
        connect("mysql://x")
