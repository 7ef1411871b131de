"""A change that both a property history and a table diff see is one ledger event, the history's exact one (#19).

The small HubSpot portal of ``test_fivetran_hubspot`` is loaded as Fivetran left it on 2025-03-31, then again on
2025-04-01 09:30 after three edits: deal 501's amount 1200 → 1500 at 09:30:00.250 (after the sync's stamp, which
is to the second, as a direct sync's is), deal 502's amount 500 → 700 → 900 (two steps between the loads, each in
the history), and deal 502's close date moved (a property the history does not carry). A third load brings a
history row before its table: the history is stored first, the table's change comes one load later.

Every expectation is read off these hand-written edits. Before the fix the second load added 6 events, not 4: two
``between_exports`` amount events (1200 → 1500, 500 → 900) beside the exact ones, and the waterfall's week counted
deal 502's amount edits twice (+850 instead of +450).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from tests.sources.warehouse.salesforce import write_parquet
from tests.sources.warehouse.test_fivetran_hubspot import _portal

from revalign.analytics.waterfall import pipeline_waterfall
from revalign.engine import Engine
from revalign.model.access import Tables
from revalign.sources.load.run import LoadReport
from revalign.sources.warehouse import ingest_tables

T = pd.Timestamp
FIRST, SECOND, THIRD = T("2025-03-31"), T("2025-04-01 09:30"), T("2025-04-02 12:00")


def _history(*rows: tuple[int, str, str, pd.Timestamp, str]) -> pd.DataFrame:
    cols = ["deal_id", "name", "value", "timestamp", "source_id"]
    return pd.DataFrame(rows, columns=cols).assign(source="CRM_UI")


def _synced(tables: dict[str, pa.Table], at: pd.Timestamp) -> dict[str, pa.Table]:
    """Every table as Fivetran stamps it: ``_fivetran_synced`` is the load's export time."""
    return {n: t.append_column("_fivetran_synced", pa.array([at] * t.num_rows, pa.timestamp("us")))
            for n, t in tables.items()}  # fmt: skip


def _with(tables: dict[str, pa.Table], deal: pd.DataFrame, history: pd.DataFrame) -> dict[str, pa.Table]:
    out = dict(tables)
    out["deal"] = pa.Table.from_pandas(deal, preserve_index=False)
    out["deal_property_history"] = pa.Table.from_pandas(history, preserve_index=False)
    return out


@pytest.fixture(scope="module")
def loads(module_sql_engine, tmp_path_factory) -> tuple[Engine, list[LoadReport]]:
    """The four loads on DuckDB and PostgreSQL (the stored exact events are read back with Ibis). On the local Spark
    they pass too but take a minute (four loads): the dedupe itself is pandas inside the loader, the same on all."""
    base = _portal()
    deal = base["deal"].to_pandas().assign(property_dealtype="newbusiness")
    history = pd.concat(
        [base["deal_property_history"].to_pandas(), _history((502, "amount", "500", T("2025-02-05 10:00"), "101"))]
    )
    lake: Path = tmp_path_factory.mktemp("lake")
    engine = module_sql_engine
    reports = [ingest_tables(engine, "fivetran_hubspot", database=write_parquet(
        _synced(_with(base, deal, history), FIRST), lake / "1", schema="hubspot"))]  # fmt: skip
    deal = deal.set_index("deal_id")
    deal.loc[501, "property_amount"] = 1500.0
    deal.loc[502, ["property_amount", "property_closedate"]] = [900.0, T("2025-07-31")]
    history = pd.concat([history, _history(
        (501, "amount", "1500", T("2025-04-01 09:30:00.250"), "101"),
        (502, "amount", "700", T("2025-04-01 08:00"), "102"),
        (502, "amount", "900", T("2025-04-01 08:30"), "101"),
    )])  # fmt: skip
    reports.append(ingest_tables(engine, "fivetran_hubspot", database=write_parquet(
        _synced(_with(base, deal.reset_index(), history), SECOND), lake / "2", schema="hubspot")))  # fmt: skip
    # the history reaches the warehouse a load before the table does
    history = pd.concat([history, _history((502, "amount", "950", T("2025-04-02 10:00"), "102"))])
    reports.append(ingest_tables(engine, "fivetran_hubspot", database=write_parquet(
        _synced(_with(base, deal.reset_index(), history), THIRD), lake / "3", schema="hubspot")))  # fmt: skip
    deal.loc[502, "property_amount"] = 950.0
    reports.append(ingest_tables(engine, "fivetran_hubspot", database=write_parquet(
        _synced(_with(base, deal.reset_index(), history), THIRD + pd.Timedelta(hours=1)), lake / "4",
        schema="hubspot")))  # fmt: skip
    return engine, reports


def _changes(engine: Engine, deal: str, name: str) -> list[tuple[object, ...]]:
    ledger = engine.execute(engine.table("ledger"))
    rows = ledger[(ledger["entity_id"] == deal) & (ledger["name"] == name)].sort_values("occurred_at")
    rows = rows.astype(object).where(rows.notna(), None)
    return list(rows[["old_value", "new_value", "occurred_at", "actor_id", "time_precision"]].itertuples(False, None))


def test_a_change_both_see_is_the_historys_exact_event_alone(loads) -> None:
    engine, _ = loads
    assert _changes(engine, "501", "amount") == [
        (None, "1200.0", T("2025-03-01 11:00"), "102", "exact"),
        ("1200.0", "1500.0", T("2025-04-01 09:30:00.250"), "101", "exact"),  # after the sync's stamp: still its twin
    ]


def test_a_change_in_two_steps_between_loads_is_the_two_exact_events(loads) -> None:
    engine, _ = loads
    assert _changes(engine, "502", "amount") == [
        (None, "500.0", T("2025-02-05 10:00"), "101", "exact"),
        ("500.0", "700.0", T("2025-04-01 08:00"), "102", "exact"),
        ("700.0", "900.0", T("2025-04-01 08:30"), "101", "exact"),  # no 500 → 900 between the exports
        ("900.0", "950.0", T("2025-04-02 10:00"), "102", "exact"),  # stored a load before the table showed it
    ]


def test_a_change_the_history_lacks_is_still_seen_between_exports(loads) -> None:
    engine, _ = loads
    moved = ("2025-06-30 00:00:00", "2025-07-31 00:00:00", SECOND, None, "between_exports")  # at the export's time
    assert _changes(engine, "502", "close_date") == [moved]


def test_each_load_adds_only_its_new_events(loads) -> None:
    _, reports = loads
    added = [r.events_added for r in reports[1:]]
    assert added == [4, 1, 0]  # 3 history rows + the close date; the history row; the table catching up: nothing


def test_the_waterfall_counts_an_amount_edit_once(loads) -> None:
    engine, _ = loads
    week = pipeline_waterfall(Tables(engine), start=dt.date(2025, 3, 31), end=dt.date(2025, 4, 7)).frame
    assert week["amount_changed"].tolist() == [950.0 - 500.0]  # deal 502's amount in the tables, before and after
