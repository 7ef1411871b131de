"""Rule-based models on the hand-made company (fixtures.py), on every engine, plus property tests.

Expected per-touch weights are worked out by hand below; channel totals are then summed in pandas here, not by
the code under test.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revalign.analytics.attribution import (
    RULE_MODELS,
    JourneyOptions,
    StageWeights,
    journey_touches,
    path_counts,
    rule_credit,
    touch_weights,
    transition_counts,
)
from revalign.analytics.attribution.rules import load_stage_weights, stage_weights_from_mapping
from revalign.engine import connect
from revalign.errors import ConfigError, UnknownNameError
from revalign.model.access import Tables
from tests.analytics.attribution.fixtures import load

O1 = ["paid_search", "webinar", "email", "direct", "events"]  # value 1000; keys: lead=webinar, opp=direct, won=events
O2 = ["organic_search", "direct"]  # value 500; lead=organic_search, opp=won=direct
O4 = ["content"]  # value 200; no lead touch; opp=won=content
VALUES = {"won:O1": 1000.0, "won:O2": 500.0, "won:O4": 200.0}
T = 2.0 / 30  # 0.2 middle share over 3 middle touches


def _decay(days: list[float], half_life: float = 7.0) -> list[float]:
    raw = [2 ** (-d / half_life) for d in days]
    return [r / sum(raw) for r in raw]


# weights per journey, in touch order (hand-computed; see the module docstring of rules.py for the rules)
EXPECTED: dict[str, dict[str, list[float]]] = {
    "first_touch": {"won:O1": [1, 0, 0, 0, 0], "won:O2": [1, 0], "won:O4": [1]},
    "last_touch": {"won:O1": [0, 0, 0, 0, 1], "won:O2": [0, 1], "won:O4": [1]},
    # O2's last touch is direct, so the organic touch before it gets the credit
    "last_non_direct": {"won:O1": [0, 0, 0, 0, 1], "won:O2": [1, 0], "won:O4": [1]},
    "linear": {"won:O1": [0.2] * 5, "won:O2": [0.5, 0.5], "won:O4": [1]},
    # 2^(-d/7) for d = 60, 51, 41, 29, 15 days (O1) and 19, 10 days (O2), then normalised
    "time_decay": {"won:O1": _decay([60, 51, 41, 29, 15]), "won:O2": _decay([19, 10]), "won:O4": [1]},
    # 40/20/40; on two touches 0.4/0.4 rescales to 0.5/0.5
    "position_based": {"won:O1": [0.4, T, T, T, 0.4], "won:O2": [0.5, 0.5], "won:O4": [1]},
    # 30/30/30 on first, lead (webinar), opportunity (direct); 10% over email and events (0.05 each).
    # O2: first+lead = 0.6 on organic, opportunity 0.3 on direct, no middle → 0.6/0.9 and 0.3/0.9.
    "w_shaped": {"won:O1": [0.3, 0.3, 0.05, 0.3, 0.05], "won:O2": [2 / 3, 1 / 3], "won:O4": [1]},
    # 22.5% on first, lead, opportunity, won; 10% on the one middle touch (email).
    # O2: organic = first+lead 0.45, direct = opp+won 0.45 → 0.5/0.5
    "full_path": {"won:O1": [0.225, 0.225, 0.1, 0.225, 0.225], "won:O2": [0.5, 0.5], "won:O4": [1]},
    # J: 20 first / 60 last / 20 middle; O2: 0.2 and 0.6 → 0.25/0.75. Inverse J mirrors it.
    "j_shaped": {"won:O1": [0.2, T, T, T, 0.6], "won:O2": [0.25, 0.75], "won:O4": [1]},
    "inverse_j": {"won:O1": [0.6, T, T, T, 0.2], "won:O2": [0.75, 0.25], "won:O4": [1]},
}
PATHS = {"won:O1": O1, "won:O2": O2, "won:O4": O4}


def expected_credit(model: str) -> pd.DataFrame:
    rows = [
        {"key": ch, "conversions": w, "revenue": w * VALUES[j]}
        for j, weights in EXPECTED[model].items()
        for ch, w in zip(PATHS[j], weights, strict=True)
    ]
    return pd.DataFrame(rows).astype({"conversions": float}).groupby("key").sum()


def test_every_builtin_rule_model_has_a_hand_computed_case():
    assert set(EXPECTED) == set(RULE_MODELS)
    for model, journeys in EXPECTED.items():
        for j, weights in journeys.items():
            assert math.isclose(sum(weights), 1.0), (model, j)  # the hand arithmetic itself sums to 1


def test_rules_paths_and_transitions_match_hand_computation_on_every_engine(engine):
    load(engine)
    touches = journey_touches(Tables(engine), JourneyOptions(conversion="won", lookback_days=90))
    paths = engine.execute(path_counts(touches)).set_index("path").sort_index()
    expected_paths = pd.DataFrame(
        [
            (" > ".join(O1), 1.0, 0.0, 1000.0),
            (" > ".join(O2), 1.0, 0.0, 500.0),
            ("content", 1.0, 0.0, 200.0),
            ("paid_search > email", 0.0, 1.0, 0.0),  # L3 never converted
            ("events", 0.0, 1.0, 0.0),  # L5's only won deal is a renewal: not a new-business conversion
        ],
        columns=["path", "conversions", "nulls", "value"],
    ).set_index("path")
    pd.testing.assert_frame_equal(paths, expected_paths.sort_index(), check_dtype=False)

    edges = engine.execute(transition_counts(touches))
    got = {(r.from_state, r.to_state): int(r.count) for r in edges.itertuples()}
    assert got[("(start)", "paid_search")] == 2  # O1 and the L3 null
    assert got[("email", "direct")] == 1 and got[("email", "(null)")] == 1
    assert got[("events", "(conversion)")] == 1 and got[("events", "(null)")] == 1
    assert sum(v for (a, b), v in got.items() if a == "(start)") == 5  # one start per journey
    assert sum(v for (a, b), v in got.items() if b == "(conversion)") == 3

    credit = rule_credit(Tables(engine), touches, RULE_MODELS)
    for model in RULE_MODELS:
        got_m = credit[credit.model == model].set_index("key")[["conversions", "revenue"]]
        got_m = got_m[got_m.conversions.abs() > 1e-12].sort_index()
        exp = expected_credit(model)
        exp = exp[exp.conversions.abs() > 1e-12].sort_index()
        pd.testing.assert_frame_equal(got_m, exp, check_exact=False, rtol=1e-9, check_names=False, obj=model)


@pytest.fixture(scope="module")
def tiny():
    eng = connect("duckdb://:memory:")
    load(eng)
    yield eng
    eng.close()


def test_each_journey_weights_sum_to_one_and_totals_are_preserved(tiny):
    touches = journey_touches(Tables(tiny))
    for name, model in RULE_MODELS.items():
        w = tiny.execute(touch_weights(touches, model))
        per = w.groupby("journey_id")["weight"].sum()
        assert per.to_numpy() == pytest.approx(1.0), name
        assert (w.weight * w.value).sum() == pytest.approx(1700.0), name


def test_touches_after_the_conversion_and_before_the_lookback_are_excluded(tiny):
    t = tiny.execute(journey_touches(Tables(tiny)))
    assert "t6" not in set(t.touchpoint_id)  # after O1 was won
    assert "w1" not in set(t.touchpoint_id)  # 2023 touch, outside the 90-day lookback of O4
    short = tiny.execute(journey_touches(Tables(tiny), JourneyOptions(lookback_days=30)))
    o1 = short[short.journey_id == "won:O1"].sort_values("position")
    assert list(o1.channel) == ["direct", "events"]  # 2024-02-01 and 02-15 are within 30 days of 03-01


@pytest.mark.parametrize(
    ("conversion", "paths"),
    [
        # lead created: L1 ← t1, t2 (t2 is at the creation instant: included); L2 ← u1; L3 ← v1; L4 and L5 have
        # no touch at or before their creation inside the lookback.
        ("lead", {"paid_search > webinar": 1, "organic_search": 1, "paid_search": 1}),
        # MQL: L1 at 01-15 ← t1, t2; L2 at 02-12 ← u1, u2. L3, L4, L5 never became MQLs → nulls.
        ("mql", {"paid_search > webinar": 1, "organic_search > direct": 1}),
        # opportunity created (new business): O1 02-01 ← t1..t4, O2 02-10 ← u1, u2, O4 04-05 ← w2 (O5 is a renewal)
        (
            "opportunity",
            {"paid_search > webinar > email > direct": 1, "organic_search > direct": 1, "content": 1},
        ),
    ],
)
def test_conversion_levels_build_the_hand_listed_paths(tiny, conversion, paths):
    got = tiny.execute(path_counts(journey_touches(Tables(tiny), JourneyOptions(conversion=conversion))))
    conv = got[got.conversions > 0].set_index("path")["conversions"].to_dict()
    assert conv == paths


def test_mql_nulls_are_the_leads_that_never_became_mql(tiny):
    got = tiny.execute(path_counts(journey_touches(Tables(tiny), JourneyOptions(conversion="mql"))))
    nulls = got[got.nulls > 0].set_index("path")["nulls"].to_dict()
    assert nulls == {"paid_search > email": 1, "content": 1, "events": 1}  # L4's 2023 touch is out of lookback


def test_start_end_filters_conversions_and_nulls(tiny):
    got = tiny.execute(path_counts(journey_touches(Tables(tiny), JourneyOptions(start="2024-03-01", end="2024-05-01"))))
    # O1 (won 03-01) and O4 (04-10) are in, O2 (02-20) is out; L3's last touch 03-05 is in, L5's 02-02 out
    assert dict(zip(got.path, got.conversions + got.nulls, strict=True)) == {
        " > ".join(O1): 1,
        "content": 1,
        "paid_search > email": 1,
    }


def test_campaign_paths_use_campaign_ids_and_mark_untagged_touches(tiny):
    got = tiny.execute(path_counts(journey_touches(Tables(tiny)), by="campaign"))
    assert "C1 > C2 > C3 > (no campaign) > C4" in set(got.path)


def test_account_level_journeys_pool_an_accounts_leads(tiny):
    got = tiny.execute(path_counts(journey_touches(Tables(tiny), JourneyOptions(level="account"))))
    assert got.conversions.sum() == 3 and got.nulls.sum() == 2  # one lead per account here


def test_custom_stage_weights_from_yaml(tmp_path, tiny):
    path = tmp_path / "attribution.yaml"
    path.write_text("custom_models:\n  sourced_heavy: {first: 0.5, lead: 0.3, middle: 0.2}\n")
    models = load_stage_weights(path)
    assert models == {"sourced_heavy": StageWeights(first=0.5, lead=0.3, middle=0.2)}
    w = tiny.execute(touch_weights(journey_touches(Tables(tiny)), models["sourced_heavy"]))
    o1 = w[w.journey_id == "won:O1"].sort_values("position").weight.to_list()
    # first 0.5, lead (webinar) 0.3, middle 0.2 over email, direct, events
    assert o1 == pytest.approx([0.5, 0.3, 0.2 / 3, 0.2 / 3, 0.2 / 3])
    o4 = w[w.journey_id == "won:O4"].weight.to_list()
    assert o4 == pytest.approx([1.0])


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"m": {"frist": 1}}, "unknown stage"),
        ({"m": {"first": -1}}, "must be a number >= 0"),
        ({"m": {"first": 0}}, "sum to 0"),
        ({"linear": {"first": 1}}, "built-in model"),
    ],
)
def test_bad_custom_weights_are_config_errors_naming_the_key(raw, message):
    with pytest.raises(ConfigError, match=message):
        stage_weights_from_mapping(raw)


def test_unknown_conversion_suggests_the_known_ones(tiny):
    with pytest.raises(UnknownNameError, match="Did you mean 'won'"):
        journey_touches(Tables(tiny), JourneyOptions(conversion="wno"))


# -- properties -------------------------------------------------------------------------------------------------
CHANNELS = ["paid_search", "email", "direct", "events", "webinar"]


@st.composite
def companies(draw):
    """Random leads with 1–6 touches each; some win a deal after their last touch, some do not."""
    n = draw(st.integers(1, 6))
    touches, leads, opps = [], [], []
    for i in range(n):
        k = draw(st.integers(1, 6))
        days = sorted(draw(st.lists(st.integers(0, 80), min_size=k, max_size=k)))
        chans = draw(st.lists(st.sampled_from(CHANNELS), min_size=k, max_size=k))
        for j, (d, ch) in enumerate(zip(days, chans, strict=True)):
            touches.append((f"t{i}_{j}", f"L{i}", pd.Timestamp("2024-01-01") + pd.Timedelta(days=d), ch))
        created = pd.Timestamp("2024-01-01") + pd.Timedelta(days=draw(st.integers(0, 85)))
        leads.append((f"L{i}", created))
        if draw(st.booleans()):
            won = pd.Timestamp("2024-03-25") + pd.Timedelta(days=draw(st.integers(0, 5)))
            amount = float(draw(st.integers(1, 1000)))
            opps.append((f"O{i}", f"L{i}", created, won, amount))
    return touches, leads, opps


def _write(engine, touches, leads, opps, relabel=None):
    from tests.analytics.attribution.fixtures import _frame

    relabel = relabel or {}
    t = [
        {"touchpoint_id": a, "lead_id": b, "occurred_at": c, "channel": relabel.get(d, d), "touch_type": "marketing"}
        for a, b, c, d in touches
    ]
    le = [{"lead_id": a, "created_at": b} for a, b in leads]
    o = [
        {
            "opportunity_id": a,
            "lead_id": b,
            "created_at": c,
            "closed_at": d,
            "amount": e,
            "is_won": True,
            "is_closed": True,
            "deal_type": "new_business",
        }
        for a, b, c, d, e in opps
    ]
    load(
        engine,
        {
            "touchpoints": _frame("touchpoints", t),
            "leads": _frame("leads", le),
            "opportunities": _frame("opportunities", o),
        },
    )


@pytest.fixture(scope="module")
def scratch():
    eng = connect("duckdb://:memory:")
    yield eng
    eng.close()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(company=companies(), perm=st.permutations(CHANNELS))
def test_credits_sum_to_conversions_and_ignore_channel_labels(scratch, company, perm):
    touches, leads, opps = company
    _write(scratch, touches, leads, opps)
    credit = rule_credit(Tables(scratch), journey_touches(Tables(scratch)), RULE_MODELS)
    n_conv, revenue = len(opps), sum(o[4] for o in opps)
    for model in RULE_MODELS:
        part = credit[credit.model == model]
        assert part.conversions.sum() == pytest.approx(n_conv), model
        assert part.revenue.sum() == pytest.approx(revenue), model
    # relabelling channels (direct stays direct: last-non-direct depends on that one label) permutes the credit
    mapping = dict(zip([c for c in CHANNELS if c != "direct"], [c for c in perm if c != "direct"], strict=True))
    _write(scratch, touches, leads, opps, relabel=mapping)
    again = rule_credit(Tables(scratch), journey_touches(Tables(scratch)), RULE_MODELS)
    again["key"] = again.key.map({v: k for k, v in mapping.items()} | {"direct": "direct"})
    a = credit.groupby(["model", "key"])[["conversions", "revenue"]].sum().sort_index()
    b = again.groupby(["model", "key"])[["conversions", "revenue"]].sum().sort_index()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9, atol=1e-9, check_index_type=False)
