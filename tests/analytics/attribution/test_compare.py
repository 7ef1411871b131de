"""Side-by-side comparison with spend (ROMI, CAC), frozen periods, model of record, and the CLI.

Numbers below are worked out by hand from fixtures.py (linear model: each of O1's five touches gets 0.2 of
one conversion and of its 1000 revenue; O2's two touches 0.5 of 500; O4's one touch all of 200).
"""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
import yaml

from revalign.analytics.attribution import (
    ALL_MODELS,
    AttributionSettings,
    FrozenCredit,
    attribution_comparison,
    attribution_settings,
    freeze_period,
    model_of_record,
)
from revalign.engine import connect
from revalign.errors import ConfigError, UnknownNameError
from revalign.model.access import Tables
from revalign.project import Project
from tests.analytics.attribution.fixtures import load, tiny_company

YEAR = {"start": "2024-01-01", "end": "2025-01-01"}


@pytest.fixture
def tiny():
    eng = connect("duckdb://:memory:")
    load(eng)
    yield eng
    eng.close()


def test_linear_credit_spend_romi_and_cac_by_hand(tiny):
    out = attribution_comparison(Tables(tiny), models=["linear"], **YEAR).set_index("channel")
    # channel: (conversions, revenue, spend, romi, cac)
    expected = {
        "paid_search": (0.2, 200.0, 300.0, (200 - 300) / 300, 300 / 0.2),
        "webinar": (0.2, 200.0, 200.0, 0.0, 1000.0),
        "events": (0.2, 200.0, 100.0, 1.0, 500.0),  # the 2023-12-31 spend of 50 is outside the range
        "email": (0.2, 200.0, 0.0, math.nan, math.nan),
        "direct": (0.2 + 0.5, 200.0 + 250.0, 0.0, math.nan, math.nan),
        "organic_search": (0.5, 250.0, 0.0, math.nan, math.nan),
        "content": (1.0, 200.0, 0.0, math.nan, math.nan),
    }
    assert set(out.index) == set(expected)  # the salary row (no channel) is never given to a channel
    for channel, values in expected.items():
        got = out.loc[channel, ["conversions", "revenue", "spend", "romi", "cac"]].to_numpy(dtype=float)
        assert got == pytest.approx(values, nan_ok=True), channel
    assert list(out.columns) == ["model", "conversions", "revenue", "spend", "romi", "cac"]


def test_spend_without_a_date_range_includes_every_day(tiny):
    out = attribution_comparison(Tables(tiny), models=["linear"]).set_index("channel")
    assert out.loc["events", "spend"] == 150.0
    assert out.loc["events", "romi"] == pytest.approx((200 - 150) / 150)


def test_every_model_side_by_side_preserves_totals(tiny):
    out = attribution_comparison(Tables(tiny), **YEAR)
    assert list(dict.fromkeys(out.model)) == list(ALL_MODELS)
    totals = out.groupby("model")[["conversions", "revenue"]].sum()
    assert totals.conversions.to_numpy() == pytest.approx(3.0)
    assert totals.revenue.to_numpy() == pytest.approx(1700.0)
    json.dumps(out.to_dict(orient="records"))  # JSON-friendly: plain types only


def test_campaign_view_keys_by_campaign(tiny):
    out = attribution_comparison(Tables(tiny), models=["first_touch"], by="campaign", **YEAR).set_index("campaign")
    # first touches: O1 → C1 (paid_search), O2 → untagged organic, O4 → C6 (content); C1 spent 300
    assert out.loc["C1", "conversions"] == 1.0 and out.loc["C1", "spend"] == 300.0
    assert out.loc["(no campaign)", "conversions"] == 1.0
    assert out.loc["C6", "revenue"] == 200.0


def test_frozen_period_does_not_move_when_data_changes(tiny):
    before = attribution_comparison(Tables(tiny), models=["linear", "markov"], **YEAR)
    freeze_period(Tables(tiny), frozen=FrozenCredit(tiny), period="2024", models=["linear", "markov"], **YEAR)
    with pytest.raises(ConfigError, match="already frozen"):
        freeze_period(Tables(tiny), frozen=FrozenCredit(tiny), period="2024", **YEAR)
    tables = tiny_company()  # a late touch arrives for L2 before its win
    late = tables["touchpoints"].iloc[[0]].assign(touchpoint_id="late", lead_id="L2", channel="paid_social")
    late["occurred_at"] = pd.Timestamp("2024-02-15")
    tables["touchpoints"] = pd.concat([tables["touchpoints"], late], ignore_index=True)
    load(tiny, tables)
    after = attribution_comparison(Tables(tiny), models=["linear", "markov"], frozen=FrozenCredit(tiny), **YEAR)
    pd.testing.assert_frame_equal(before, after)
    moved = attribution_comparison(Tables(tiny), models=["linear"], **YEAR).set_index("channel")  # frozen unused
    assert moved.loc["paid_social", "conversions"] == pytest.approx(1 / 3)  # O2 now has three touches


def _project(tmp_path, extra=None) -> Project:
    (tmp_path / "revalign.yaml").write_text(yaml.safe_dump({"name": "t", "extra": extra or {}}))
    eng = connect("duckdb://:memory:")
    load(eng)
    return Project(tmp_path, engine=eng)


def _settings(proj: Project) -> AttributionSettings:
    """The project's attribution settings, read as the Project façade reads them."""
    return attribution_settings(proj.settings.extra.get("attribution"), proj.folder)


def test_model_of_record_and_custom_models_come_from_settings(tmp_path):
    extra = {
        "attribution": {
            "model_of_record": {"budget": "shapley", "compensation": "sourced_heavy"},
            "custom_models": {"sourced_heavy": {"first": 0.5, "lead": 0.3, "middle": 0.2}},
        }
    }
    proj = _project(tmp_path, extra)
    assert proj.attribution_model_of_record("budget") == "shapley"
    assert model_of_record(_settings(proj), "board") == "position_based"  # the default when not declared
    out = proj.attribution(models=[proj.attribution_model_of_record("compensation")], **YEAR).set_index("channel")
    # O1: first 0.5 on paid_search, lead touch (webinar) 0.3, middle 0.2 over email, direct, events
    assert out.loc["paid_search", "conversions"] == pytest.approx(0.5)
    assert out.loc["webinar", "conversions"] == pytest.approx(0.3)
    with pytest.raises(UnknownNameError):
        model_of_record(_settings(proj), "bonus")


def test_bad_model_of_record_is_a_config_error(tmp_path):
    proj = _project(tmp_path, {"attribution": {"model_of_record": {"budget": "markvo"}}})
    with pytest.raises(ConfigError, match="unknown model 'markvo'"):
        proj.attribution_model_of_record("budget")


def test_unknown_model_name_suggests_close_ones(tiny):
    with pytest.raises(UnknownNameError, match="Did you mean 'markov'"):
        attribution_comparison(Tables(tiny), models=["markow"])


def test_cli_attribute_prints_json_and_freezes(tmp_path, capsys):
    from revalign.interfaces.cli import main

    (tmp_path / "revalign.yaml").write_text(yaml.safe_dump({"name": "t", "engine": "duckdb:///r.duckdb"}))
    eng = connect(f"duckdb://{tmp_path / 'r.duckdb'}")
    load(eng)
    eng.close()
    args = ["attribute", "--project", str(tmp_path), "--model", "linear", "--start", "2024-01-01"]
    assert main([*args, "--end", "2025-01-01", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    ps = next(r for r in rows if r["channel"] == "paid_search")
    assert ps["model"] == "linear" and ps["conversions"] == pytest.approx(0.2) and ps["cac"] == pytest.approx(1500)
    assert main([*args, "--end", "2025-01-01", "--freeze", "2024", "--json"]) == 0
    capsys.readouterr()
    assert main(["attribute", "--project", str(tmp_path), "--model", "nope"]) == 6  # unknown name
    assert main(["attribute", "--project", str(tmp_path), "--use", "board"]) == 0
