"""The scores table: written once per run in one transaction, bands against conversion, and the CRM export."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from revalign.analytics.scoring import (
    apply_scores,
    band_conversion,
    crm_frame,
    latest_scores,
    score_distribution,
    score_export,
    score_leads,
    scoring_runs,
)
from revalign.definitions.scoring import ScoringModel
from revalign.engine import connect
from revalign.errors import UnknownNameError
from revalign.interfaces.spreadsheet import safe_frame
from revalign.model.access import Tables
from revalign.simulate import SimulatedCompany
from tests.analytics.scoring.conftest import END


@pytest.fixture(scope="module")
def writable(company: SimulatedCompany) -> Tables:
    eng = connect("duckdb://:memory:")
    company.write(eng)
    return Tables(eng)


def test_apply_writes_each_run_once_and_keeps_older_runs(writable: Tables, sim_model: ScoringModel) -> None:
    first = apply_scores(writable, sim_model, END)
    n_leads = int(writable.execute(writable.table("leads").count()))
    assert (first.rows_added, first.already_applied) == (n_leads, False)
    again = apply_scores(writable, sim_model, END)
    assert (again.rows_added, again.already_applied) == (0, True)
    later = apply_scores(writable, sim_model, dt.date(2026, 1, 31))
    assert later.rows_added == n_leads
    runs = writable.to_pandas(scoring_runs(writable))
    assert runs["leads"].tolist() == [n_leads, n_leads]
    assert int(writable.execute(writable.table("scores").count())) == 2 * n_leads
    latest = writable.to_pandas(latest_scores(writable, "lead_score"))
    assert len(latest) == n_leads and (latest["scored_at"] == pd.Timestamp("2026-01-31 23:59:59.999999")).all()


def test_a_failed_apply_leaves_no_rows(company: SimulatedCompany, sim_model: ScoringModel) -> None:
    """The rows are written inside one transaction: an error after the write rolls it back."""
    eng = connect("duckdb://:memory:")
    company.write(eng)
    tables = Tables(eng)
    with pytest.raises(RuntimeError), eng.transaction():
        apply_scores(tables, sim_model, END)
        raise RuntimeError("crash after the write")
    assert not eng.has_table("scores") or int(eng.execute(eng.table("scores").count())) == 0


def test_bands_vs_conversion_match_pandas(tables: Tables, company: SimulatedCompany, sim_model: ScoringModel) -> None:
    scored = score_leads(tables, sim_model, END)
    got = tables.to_pandas(band_conversion(tables, scored)).set_index("band")
    frame = tables.to_pandas(scored)
    opps = company.tables["opportunities"].to_pandas()
    frame["converted"] = frame["lead_id"].isin(set(opps["lead_id"].dropna()))
    expected = frame.groupby("band").agg(
        leads=("lead_id", "size"), mqls=("is_mql", "sum"), converted=("converted", "sum")
    )
    assert got.loc[expected.index, ["leads", "mqls", "converted"]].astype(int).equals(expected.astype(int))
    rates = got.loc[expected.index, "conversion_rate"].to_numpy()
    assert rates == pytest.approx((expected["converted"] / expected["leads"]).to_numpy())
    # higher bands convert better: the point of banding
    ordered = got.sort_values("min_score", ascending=False)["conversion_rate"].tolist()
    assert ordered[0] > 0.5 > max(ordered[1:])
    dist = tables.to_pandas(score_distribution(scored, 10.0))
    assert dist["leads"].sum() == len(frame)
    assert dist.set_index("bucket")["leads"].to_dict() == (frame["score"] // 10 * 10).value_counts().to_dict()


def test_crm_export_has_the_importers_headers_and_neutralised_cells(writable: Tables) -> None:
    out = score_export(writable, "lead_score", 1, "salesforce")
    assert list(out.columns)[:4] == ["Id", "Lead_Score__c", "Lead_Band__c", "MQL__c"]
    assert set(out["MQL__c"]) <= {"true", "false"} and out["Lead_Scored_At__c"].iloc[0] == "2026-01-31T23:59:59Z"
    hostile = pd.DataFrame(
        {
            "lead_id": ['=HYPERLINK("http://x")'],
            "score": [-5.0],
            "band": ["D"],
            "is_mql": [False],
            "model": ["m"],
            "version": [1],
            "scored_at": [pd.Timestamp("2026-01-01")],
        }
    )
    safe = safe_frame(crm_frame(hostile, "generic"))
    assert safe["Lead ID"].iloc[0].startswith("'=") and safe["Score"].iloc[0] == -5.0
    with pytest.raises(UnknownNameError, match="salesforc"):
        crm_frame(hostile, "salesforc")
