"""Same numbers on every engine: the default funnel, hand-off and channel table on scale-s data vs DuckDB.

Counts must be equal; quantiles may differ slightly where an engine's percentile is approximate (Spark's
``percentile_approx``), so they are compared with a tolerance that the engine's ``exact_median`` flag sets.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from revalign.analytics.channels import channel_productivity
from revalign.analytics.funnel import funnel
from revalign.analytics.handoff import handoff
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.model.tables import canonical_table
from revalign.simulate import simulate

N_LEADS = 1000  # a slice of scale s keeps the Postgres and Spark runs short


@pytest.fixture(scope="module")
def tables():
    """The first leads of the scale-s company with their events, deals and touches (spend and traffic whole)."""
    full = simulate(scale="s", seed=0).tables
    leads = full["leads"].sort_by("lead_id").slice(0, N_LEADS)
    lead_ids = leads.column("lead_id")
    opps = full["opportunities"].filter(pc.is_in(full["opportunities"].column("lead_id"), lead_ids))
    entity_ids = pa.concat_arrays([lead_ids.combine_chunks(), opps.column("opportunity_id").combine_chunks()])
    ledger = full["ledger"].filter(pc.is_in(full["ledger"].column("entity_id"), entity_ids))
    touches = full["touchpoints"].filter(pc.is_in(full["touchpoints"].column("lead_id"), lead_ids))
    return {"leads": leads, "opportunities": opps, "ledger": ledger, "touchpoints": touches,
            "spend": full["spend"], "web_traffic": full["web_traffic"]}  # fmt: skip


def _write(engine, tables) -> None:
    for name, table in tables.items():
        engine.write(name, table, schema=canonical_table(name).schema)


@pytest.fixture(scope="module")
def expected(tables):
    e = connect("duckdb://:memory:")
    _write(e, tables)
    out = {
        "funnel": funnel(Tables(e), "lead_to_customer", grain="quarter", by=("channel",)).steps,
        "period": funnel(Tables(e), "mql_handoff", mode="period", grain="quarter").steps,
        "handoff": handoff(Tables(e), by=("channel",)),
        "channels": channel_productivity(Tables(e), attribution="influenced"),
    }
    e.close()
    return out


def _compare(got: pd.DataFrame, want: pd.DataFrame, keys: list[str], exact: bool) -> None:
    got = got.sort_values(keys).reset_index(drop=True)
    want = want.sort_values(keys).reset_index(drop=True)
    assert len(got) == len(want)
    for col in want.columns:
        g, w = got[col], want[col]
        if pd.api.types.is_float_dtype(w):
            approx = not exact and any(s in col for s in ("p50", "p75", "p90", "cycle_days"))
            tol = 0.05 if approx else 1e-6  # float sums and epoch arithmetic differ in the last digits
            assert g.astype(float).to_numpy() == pytest.approx(w.to_numpy(), rel=tol, abs=tol, nan_ok=True), col
        else:
            assert g.astype(str).tolist() == w.astype(str).tolist(), col


@pytest.mark.slow
def test_default_funnel_is_the_same_on_every_engine(engine, tables, expected):
    # On Spark this once hung in toPandas: the cached step tables' nested plan text filled the heap inside Arrow's
    # collect thread, whose OutOfMemoryError left the result promise open forever. engine/spark.py now caps the
    # plan text (and ends the JVM on any OutOfMemoryError); pytest-timeout stops any other hang.
    _write(engine, {k: tables[k] for k in ("leads", "opportunities", "ledger")})
    exact = type(engine).exact_median
    got = funnel(Tables(engine), "lead_to_customer", grain="quarter", by=("channel",)).steps
    _compare(got, expected["funnel"], ["cohort", "channel", "step_index"], exact)
    if engine.name != "spark":  # runtime budget: Spark runs the default (cohort) funnel only
        got = funnel(Tables(engine), "mql_handoff", mode="period", grain="quarter").steps
        _compare(got, expected["period"], ["period", "step_index"], exact)


def test_handoff_and_channels_are_the_same_on_every_engine(engine, tables, expected):
    if engine.name == "spark":
        pytest.skip("runtime budget: Spark parity is checked on the funnel itself, these share its expressions")
    _write(engine, tables)
    exact = type(engine).exact_median
    _compare(handoff(Tables(engine), by=("channel",)), expected["handoff"], ["channel"], exact)
    _compare(channel_productivity(Tables(engine), attribution="influenced"), expected["channels"], ["channel"], exact)


@pytest.mark.spark
def test_cached_tables_on_spark_do_not_nest_their_plans(spark_session_engine):
    """``Table.cache()`` on Spark is a checkpoint: a chain of cached tables reads back as scans, not nested plans.

    With Spark's own cache every plan carried the whole plan of each cached table it read (the funnel's final
    aggregate: ~4 million characters, formatted again on every stage), which is what filled the heap and hung.
    """
    engine = spark_session_engine
    engine.write("chain_base", pd.DataFrame({"k": range(100), "v": range(100)}))
    level = engine.table("chain_base")
    chain = []
    for i in range(1, 7):
        level = level.filter(level.k >= 10 * i).mutate(v=level.v + 1).cache()
        chain.append(level)
    final = ibis.union(*[t.select("k", "v") for t in chain])
    text = (
        engine.con._session.sql(engine.to_sql(final, pretty=False))._jdf.queryExecution().optimizedPlan().treeString()
    )
    assert "InMemoryRelation" not in text and "Filter" not in text  # read back as scans, no plan repeated
    # independent count: level i keeps k = 10i..99, i.e. 100 - 10i rows, for i = 1..6
    assert int(engine.execute(final.count())) == sum(100 - 10 * i for i in range(1, 7))
    for t in chain:
        t.release()
    engine.drop("chain_base")
