"""X Education leads through the shipped mapping, against an independent pandas reading of Leads.csv."""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.engine import connect
from revalign.sources import ingest, quarantined

# The documented source rule (docs/mappings.md, "X Education"), written out independently of the YAML.
SOURCE_TO_CHANNEL = {
    "google": "paid_search",
    "bing": "paid_search",
    "pay per click ads": "paid_search",
    "organic search": "organic_search",
    "direct traffic": "direct",
    "olark chat": "other",
    "live chat": "other",
    "click2call": "other",
    "testone": "other",
    "reference": "partner_referral",
    "referral sites": "partner_referral",
    "welingak website": "partner_referral",
    "welearn": "partner_referral",
    "welearnblog_home": "content",
    "blog": "content",
    "youtubechannel": "content",
    "press_release": "content",
    "facebook": "paid_social",
    "social media": "paid_social",
    "nc_edm": "email",
}


@pytest.fixture(scope="module")
def leads_csv(shared_data):
    return shared_data / "x_education_leads" / "Leads.csv"


@pytest.fixture(scope="module")
def loaded(leads_csv):
    engine = connect("duckdb://:memory:")
    report = ingest(engine, leads_csv.parent, "x_education")
    yield engine, report, pd.read_csv(leads_csv)
    engine.close()


def test_leads_per_source_match_pandas(loaded):
    engine, _, frame = loaded
    expected = frame["Lead Source"].str.lower().map(SOURCE_TO_CHANNEL).fillna("unknown").value_counts().sort_index()
    assert frame["Lead Source"].str.lower().dropna().isin(list(SOURCE_TO_CHANNEL)).all()  # every label is mapped
    leads = engine.table("leads")
    got = engine.execute(leads.group_by("lead_source").agg(n=leads.count())).set_index("lead_source")["n"]
    pd.testing.assert_series_equal(got.sort_index(), expected, check_names=False, check_dtype=False)
    # "Google" (2,868) and "google" (5) are one source
    assert got["paid_search"] == (frame["Lead Source"].str.lower().isin(["google", "bing", "pay per click ads"])).sum()


def test_select_placeholder_means_not_answered(loaded):
    engine, _, frame = loaded
    leads = engine.execute(engine.table("leads")).set_index("lead_id")
    expected_missing = frame["Specialization"].isna() | (frame["Specialization"] == "Select")
    assert leads["industry"].isna().sum() == expected_missing.sum() == 1942 + 1438
    assert not (leads["industry"] == "Select").any()
    by_industry = leads["industry"].value_counts()
    assert by_industry.to_dict() == frame.loc[~expected_missing, "Specialization"].value_counts().to_dict()


def test_converted_flag_and_lifecycle(loaded):
    engine, report, frame = loaded
    leads = engine.execute(engine.table("leads")).set_index("lead_id")
    converted = frame.set_index("Prospect ID")["Converted"] == 1
    assert leads["is_converted"].sum() == converted.sum() == 3561
    assert (leads.loc[converted.index, "is_converted"].astype(bool) == converted).all()
    assert (leads["lifecycle_stage"] == "customer").sum() == converted.sum()
    ledger = engine.table("ledger")
    names = engine.execute(ledger.group_by("name").agg(n=ledger.count())).set_index("name")["n"]
    assert names.to_dict() == {"lead": len(frame), "customer": int(converted.sum())}
    assert report.events_added == len(frame) + int(converted.sum())


def test_every_lead_loads_and_other_columns_stay_in_raw(loaded):
    engine, report, frame = loaded
    (t,) = report.tables
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (len(frame), len(frame), 0)
    assert quarantined(engine).empty
    raw = engine.execute(engine.table("_raw_x_education_leads"))
    assert len(raw) == len(frame)
    assert (raw["tags"] != "").sum() == frame["Tags"].notna().sum()  # kept as text for scoring


def test_created_at_is_the_export_time(loaded, leads_csv):
    engine, _, _ = loaded
    created = engine.execute(engine.table("leads").created_at)
    mtime = pd.Timestamp(leads_csv.stat().st_mtime, unit="s").floor("s")
    assert (created == mtime).all()
