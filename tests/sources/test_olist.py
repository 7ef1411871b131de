"""The Olist marketing funnel, loaded through the shipped mapping, against an independent pandas reading.

The expectations are computed here with plain pandas from the same CSV files and the documented rules
(docs/mappings.md, "Olist"), never with revalign's code.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.sources import ingest, load_history, quarantined

# The documented channel rule, written out independently of olist.yaml.
ORIGIN_TO_CHANNEL = {
    "organic_search": "organic_search",
    "paid_search": "paid_search",
    "social": "paid_social",
    "direct_traffic": "direct",
    "email": "email",
    "referral": "partner_referral",
    "display": "other",
    "other_publicities": "other",
    "other": "other",
    "unknown": "unknown",
}
LEAD_TYPE_TO_SEGMENT = {
    "online_beginner": "smb",
    "online_small": "smb",
    "online_medium": "mid_market",
    "offline": "mid_market",
    "online_big": "enterprise",
    "online_top": "enterprise",
    "industry": "enterprise",
    "other": "unknown",
}


@pytest.fixture(scope="module")
def olist_files(shared_data):
    folder = shared_data / "olist_marketing_funnel"
    mqls = pd.read_csv(folder / "olist_marketing_qualified_leads_dataset.csv")
    deals = pd.read_csv(folder / "olist_closed_deals_dataset.csv")
    return folder, mqls, deals


@pytest.fixture(scope="module")
def loaded(olist_files):
    folder = olist_files[0]
    engine = connect("duckdb://:memory:")
    report = ingest(engine, folder, "olist")
    yield engine, report
    engine.close()


def _won_before_contact(mqls: pd.DataFrame, deals: pd.DataFrame) -> pd.DataFrame:
    both = deals.merge(mqls, on="mql_id")
    first = pd.to_datetime(both["first_contact_date"])  # a date: midnight
    won = pd.to_datetime(both["won_date"])
    # created_at is first contact at midnight São Paulo (02:00/03:00 UTC); a win the same day after 03:00 UTC is
    # not "before". Comparing calendar days gives the one deal the dataset documents (cycle -2 days).
    return both[won.dt.normalize() < first]


def test_leads_per_channel_match_pandas_with_blank_and_unknown_as_unknown(loaded, olist_files):
    engine, _ = loaded
    _, mqls, _ = olist_files
    expected = mqls["origin"].map(ORIGIN_TO_CHANNEL).fillna("unknown").value_counts().sort_index()
    leads = engine.table("leads")
    got = engine.execute(leads.group_by("lead_source").agg(n=leads.count())).set_index("lead_source")["n"]
    pd.testing.assert_series_equal(got.sort_index(), expected, check_names=False, check_dtype=False)
    # 60 blank origins and 1,099 "unknown" both end as unknown (SOURCE.md quirks)
    assert expected["unknown"] == mqls["origin"].isna().sum() + (mqls["origin"] == "unknown").sum() == 1159
    detail = engine.execute(leads.filter(leads.lead_source == "unknown").lead_source_detail.isnull().sum())
    assert detail == mqls["origin"].isna().sum()  # the raw label is kept: blank stays blank


def test_won_deals_per_segment_match_pandas_minus_the_deal_won_before_first_contact(loaded, olist_files):
    engine, _ = loaded
    _, mqls, deals = olist_files
    bad = _won_before_contact(mqls, deals)
    assert len(bad) == 1
    kept = deals[~deals["mql_id"].isin(bad["mql_id"])]
    expected = kept["lead_type"].map(LEAD_TYPE_TO_SEGMENT).fillna("unknown").value_counts().sort_index()
    opps = engine.table("opportunities")
    got = engine.execute(opps.group_by("segment").agg(n=opps.count())).set_index("segment")["n"]
    pd.testing.assert_series_equal(got.sort_index(), expected, check_names=False, check_dtype=False)
    assert engine.execute(opps.is_won.sum()) == len(deals) - 1


def test_deal_won_before_first_contact_is_quarantined_with_order_of_dates(loaded, olist_files):
    engine, _ = loaded
    _, mqls, deals = olist_files
    bad = _won_before_contact(mqls, deals)
    q = quarantined(engine)
    assert len(q) == 1
    row = q.iloc[0]
    assert (row["rule"], row["column"], row["table"]) == ("order_of_dates", "won_date", "opportunities")
    # the data row number points at the deal in the file (1-based, header excluded)
    assert row["row"] == deals.index[deals["mql_id"] == bad["mql_id"].iloc[0]][0] + 1
    assert row["value"] == bad["won_date"].iloc[0]


def test_every_row_is_loaded_or_quarantined(loaded):
    _, report = loaded
    for t in report.tables:
        assert t.rows_loaded + t.rows_quarantined + t.rows_deduplicated == t.rows_read, t
    by_target = {t.target: t.events_added for t in report.tables}
    assert by_target == {"mqls": 16000, "deals": 2 * 841} | {k: 0 for k in by_target if k not in ("mqls", "deals")}
    assert sum(by_target.values()) == report.events_added


def test_users_accounts_and_campaigns_come_from_the_ids(loaded, olist_files):
    engine, _ = loaded
    _, mqls, deals = olist_files
    users = engine.execute(engine.table("users"))
    assert set(users["user_id"]) == set(deals["sdr_id"]) | set(deals["sr_id"])
    # a person who is both SDR and SR in the data gets the later target's role (ae)
    both = set(deals["sdr_id"]) & set(deals["sr_id"])
    assert (users.set_index("user_id").loc[list(both), "role"] == "ae").all()
    assert engine.execute(engine.table("accounts").count()) == deals["seller_id"].nunique()
    assert engine.execute(engine.table("campaigns").count()) == mqls["landing_page_id"].nunique()


def test_converted_leads_get_owner_segment_and_lifecycle(loaded, olist_files):
    engine, _ = loaded
    _, mqls, deals = olist_files
    leads = engine.execute(engine.table("leads")).set_index("lead_id")
    assert leads["is_converted"].sum() == deals["mql_id"].nunique() == 842
    assert (leads.loc[deals["mql_id"], "owner_id"].to_numpy() == deals["sdr_id"].to_numpy()).all()
    assert (leads["lifecycle_stage"] == "customer").sum() == 842
    assert (leads["lifecycle_stage"] == "mql").sum() == len(mqls) - 842


def test_ledger_has_lead_mql_and_customer_events(loaded, olist_files):
    engine, report = loaded
    _, mqls, deals = olist_files
    ledger = engine.table("ledger")
    counts = engine.execute(ledger.group_by(["kind", "name"]).agg(n=ledger.count())).set_index(["kind", "name"])["n"]
    assert counts[("lifecycle", "lead")] == counts[("lifecycle", "mql")] == len(mqls)
    assert counts[("lifecycle", "customer")] == counts[("stage", "closed_won")] == len(deals) - 1
    assert report.events_added == int(counts.sum())
    # customer events happen at won_date (UTC, as written)
    cust = engine.execute(ledger.filter(ledger.name == "customer").select("entity_id", "occurred_at"))
    expected = deals.set_index("mql_id")["won_date"].map(pd.Timestamp)
    assert (cust.set_index("entity_id")["occurred_at"] == expected.loc[cust["entity_id"]].to_numpy()).all()


def test_reloading_the_same_files_changes_nothing(loaded, olist_files):
    engine, _ = loaded
    before = {t: engine.execute(engine.table(t).count()) for t in engine.list_tables()}
    again = ingest(engine, olist_files[0], "olist")
    assert again.skipped_as_duplicate and again.events_added == 0
    assert {t: engine.execute(engine.table(t).count()) for t in engine.list_tables()} == before
    assert load_history(engine)["load_id"].nunique() == 1


def test_raw_tables_keep_every_cell_as_text(loaded, olist_files):
    engine, _ = loaded
    _, mqls, _ = olist_files
    raw = engine.execute(engine.table("_raw_olist_olist_marketing_qualified_leads_dataset"))
    assert len(raw) == len(mqls)
    assert (raw["origin"] == "").sum() == mqls["origin"].isna().sum()
    assert raw["_row"].tolist() == list(range(1, len(mqls) + 1))


def test_olist_loads_the_same_on_every_engine(engine, olist_files):
    """Engine parity: the same ingest gives the same table counts on DuckDB, PostgreSQL and Spark."""
    folder, mqls, deals = olist_files
    report = ingest(engine, folder, "olist")
    counts = {t: int(engine.execute(engine.table(t).count())) for t in ("leads", "opportunities", "users", "accounts")}
    assert counts == {
        "leads": len(mqls),
        "opportunities": len(deals) - 1,
        "users": len(set(deals["sdr_id"]) | set(deals["sr_id"])),
        "accounts": deals["seller_id"].nunique(),
    }
    leads = engine.table("leads")
    per_channel = engine.execute(leads.group_by("lead_source").agg(n=leads.count())).set_index("lead_source")["n"]
    expected = mqls["origin"].map(ORIGIN_TO_CHANNEL).fillna("unknown").value_counts()
    assert per_channel.sort_index().to_dict() == expected.sort_index().to_dict()
    assert report.rows_quarantined == 1
    assert int(engine.execute(engine.table("ledger").count())) == report.events_added == 2 * len(mqls) + 2 * 841
    assert ingest(engine, folder, "olist").skipped_as_duplicate


def test_deals_loaded_after_the_mqls_do_not_duplicate_lifecycle_events(olist_files):
    """Two loads (MQLs, then deals): the lead's mql → customer change is recorded once, at won_date."""
    folder, mqls, deals = olist_files
    engine = connect("duckdb://:memory:")
    ingest(engine, folder / "olist_marketing_qualified_leads_dataset.csv", "olist")
    report = ingest(engine, folder / "olist_closed_deals_dataset.csv", "olist")
    assert {t.target for t in report.tables} == {"sdrs", "srs", "sellers", "converted_mqls", "deals"}
    ledger = engine.execute(engine.table("ledger"))
    customer = ledger[ledger["name"] == "customer"]
    assert customer["entity_id"].is_unique and len(customer) == len(deals)
    won = deals.set_index("mql_id")["won_date"].map(pd.Timestamp)
    at_won = customer["occurred_at"].to_numpy() == won.loc[customer["entity_id"]].to_numpy()
    # 841 at won_date (written by the deals target); the quarantined deal's lead changed stage in the
    # CRM export, which the diff records at the export time
    assert at_won.sum() == len(deals) - 1
    owners = ledger[(ledger["kind"] == "field") & (ledger["name"] == "owner_id")]
    assert len(owners) == len(deals) and owners["old_value"].isna().all()  # owner assigned by the deals export
    opps = engine.execute(engine.table("opportunities"))
    created = mqls.set_index("mql_id")["first_contact_date"]
    assert (opps["created_at"].dt.normalize() == pd.to_datetime(created.loc[opps["lead_id"]]).to_numpy()).all()
    engine.close()


def test_first_contact_is_midnight_in_sao_paulo_stored_as_utc(loaded, olist_files):
    engine, _ = loaded
    _, mqls, _ = olist_files
    leads = engine.execute(engine.table("leads").select("lead_id", "created_at")).set_index("lead_id")
    local = pd.to_datetime(mqls.set_index("mql_id")["first_contact_date"]).dt.tz_localize(
        "America/Sao_Paulo",
        nonexistent="shift_forward",  # 2017-10-15 00:00 did not exist (summer time began)
    )
    expected = local.dt.tz_convert("UTC").dt.tz_localize(None)
    assert (leads.loc[expected.index, "created_at"].to_numpy() == expected.to_numpy()).all()
    assert set(leads["created_at"].dt.hour) == {2, 3}  # UTC-3 (standard) and UTC-2 (Brazilian summer time)
