"""Attribution gives the same answer on DuckDB, PostgreSQL and Spark, checked against plain pandas.

A small random company (fixed seed; accounts with several leads, leads without an account, untagged touches,
renewals that are not marketing conversions) is loaded into each engine. The journeys and path tables are
rebuilt here in pandas by the textbook rule — per conversion, the entity's touches in ``(converted_at −
lookback, converted_at]`` in time order; per entity that never converts, its touches within the lookback of
its last touch — and every engine's result must equal them: account- and lead-level journeys, opportunity
and won conversions, channel and campaign paths. Rule-based credit is checked against pandas for first touch,
last touch and linear (and every rule model against an in-memory DuckDB reference); Markov credit computed
from the engine's own transition counts must equal the credit fitted on the pandas path table.
"""

from __future__ import annotations

import ibis
import numpy as np
import pandas as pd
import pytest

from revalign.analytics.attribution import (
    RULE_MODELS,
    JourneyOptions,
    MarkovAttribution,
    attribution_credit,
    journey_rows,
    journey_touches,
    journey_transition_counts,
    path_counts,
    transition_counts,
)
from revalign.analytics.attribution.rules import long_credit, rule_credit_wide
from revalign.engine import connect
from revalign.model.access import Tables
from tests.analytics.attribution.fixtures import _frame, load

CHANNELS = ["paid_search", "email", "direct", "events", "webinar", "content"]
CAMPAIGNS = ["C1", "C2", "C3", "C4", None]
LOOKBACK = 60


def random_company(seed: int = 7) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2024-01-01")
    touches, leads, opps = [], [], []
    for i in range(90):
        lead, account = f"L{i:03d}", (f"A{i // 3:02d}" if i % 10 else None)  # every 10th lead has no account
        created = t0 + pd.Timedelta(hours=int(rng.integers(0, 24 * 150)))
        leads.append({"lead_id": lead, "account_id": account, "created_at": created})
        for j in range(int(rng.integers(1, 7))):
            touches.append(
                {
                    "touchpoint_id": f"T{i:03d}_{j}",
                    "lead_id": lead,
                    "account_id": account,
                    "occurred_at": created + pd.Timedelta(hours=int(rng.integers(-24 * 40, 24 * 120))),
                    "channel": CHANNELS[int(rng.integers(len(CHANNELS)))],
                    "campaign_id": CAMPAIGNS[int(rng.integers(len(CAMPAIGNS)))],
                    "touch_type": "sales" if rng.random() < 0.2 else "marketing",
                    "interaction": "visit",
                }
            )
        if rng.random() < 0.45:
            opened = created + pd.Timedelta(hours=int(rng.integers(24, 24 * 100)))
            won = rng.random() < 0.6
            opps.append(
                {
                    "opportunity_id": f"O{i:03d}",
                    "account_id": account,
                    "lead_id": lead,
                    "created_at": opened,
                    "closed_at": opened + pd.Timedelta(hours=int(rng.integers(24, 24 * 60))) if won else None,
                    "stage": "closed_won" if won else "discovery",
                    "is_closed": won,
                    "is_won": won,
                    "amount": float(rng.integers(1, 50)) * 100.0,
                    "deal_type": "renewal" if len(opps) % 8 == 5 else "new_business",
                }
            )
    return {
        "touchpoints": _frame("touchpoints", touches),
        "leads": _frame("leads", leads),
        "opportunities": _frame("opportunities", opps),
    }


COMPANY = random_company()


def reference_journeys(conversion: str, level: str, by: str) -> pd.DataFrame:
    """``journey, converted, value, position, key`` per touch, by the textbook rule (plain pandas)."""
    entity_col = "lead_id" if level == "lead" else "account_id"
    touches = COMPANY["touchpoints"].assign(entity=lambda f: f[entity_col])
    touches = touches[touches.entity.notna()].copy()
    touches["key"] = touches.channel if by == "channel" else touches.campaign_id.fillna("(no campaign)")
    opps = COMPANY["opportunities"]
    opps = opps[opps.deal_type == "new_business"]
    if conversion == "won":
        opps = opps[opps.is_won & opps.closed_at.notna()]
    at = opps.closed_at if conversion == "won" else opps.created_at
    conv = pd.DataFrame({"id": opps.opportunity_id, "entity": opps[entity_col], "at": at, "value": opps.amount})
    conv = conv[conv.entity.notna()]
    lookback = pd.Timedelta(days=LOOKBACK)
    parts = []
    for c in conv.itertuples():
        t = touches[
            (touches.entity == c.entity) & (touches.occurred_at <= c.at) & (touches.occurred_at > c.at - lookback)
        ]
        parts.append(t.assign(journey=c.id, converted=True, value=c.value))
    for entity, t in touches[~touches.entity.isin(set(conv.entity))].groupby("entity"):
        t = t[t.occurred_at > t.occurred_at.max() - lookback]
        parts.append(t.assign(journey=f"null:{entity}", converted=False, value=0.0))
    out = pd.concat(parts).sort_values(["journey", "occurred_at", "touchpoint_id"])
    out["position"] = out.groupby("journey").cumcount()
    return out[["journey", "converted", "value", "position", "key"]]


def reference_paths(journeys: pd.DataFrame) -> pd.DataFrame:
    per = journeys.groupby("journey").agg(
        path=("key", " > ".join), converted=("converted", "first"), value=("value", "first")
    )
    per["conversions"] = per.converted.astype(float)
    per["nulls"] = 1.0 - per.conversions
    return per.groupby("path")[["conversions", "nulls", "value"]].sum().sort_index()


def reference_rules(journeys: pd.DataFrame) -> pd.DataFrame:
    """First touch, last touch and linear credit per key, from the pandas journeys."""
    conv = journeys[journeys.converted].copy()
    n = conv.groupby("journey").position.transform("size")
    weights = {
        "first_touch": (conv.position == 0).astype(float),
        "last_touch": (conv.position == n - 1).astype(float),
        "linear": 1.0 / n,
    }
    rows = [
        conv.assign(model=m, conversions=w, revenue=w * conv.value)
        .groupby(["model", "key"])[["conversions", "revenue"]]
        .sum()
        for m, w in weights.items()
    ]
    return pd.concat(rows).sort_index()


# (conversion, level, path key): account-level opportunity journeys by channel, lead-level won deals by campaign
# (lead-level channel paths on every engine: test_rules.py). Two cases keep the Spark run short.
CASES = [("opportunity", "account", "channel"), ("won", "lead", "campaign")]
ORDERS = {"opportunity/account/channel": (1, 2), "won/lead/campaign": (1,)}  # Markov orders checked per case


@pytest.fixture(scope="module")
def duckdb_reference():
    eng = connect("duckdb://:memory:")
    load(eng, COMPANY)
    yield eng
    eng.close()


def test_reference_company_has_what_the_parity_test_needs():
    j = reference_journeys("opportunity", "account", "channel")
    leads_per_account = COMPANY["leads"].groupby("account_id").size()
    assert (leads_per_account > 1).all() and COMPANY["leads"].account_id.isna().any()
    assert j.converted.any() and (~j.converted).any()
    assert (COMPANY["opportunities"].deal_type == "renewal").any()
    assert COMPANY["touchpoints"].campaign_id.isna().any()
    lead_level = reference_paths(reference_journeys("opportunity", "lead", "channel"))
    assert not reference_paths(j).equals(lead_level)  # account journeys pool leads: a different table


def _tagged_union(parts: dict[str, object]):
    """One expression for several results (a ``case`` column tells them apart): one Spark job instead of many."""
    tables = [expr.mutate(case=ibis.literal(name)) for name, expr in parts.items()]
    out = tables[0]
    for t in tables[1:]:
        out = out.union(t)
    return out


def _by_edge(edges: pd.DataFrame) -> pd.DataFrame:
    return edges.sort_values(["from_state", "to_state"]).reset_index(drop=True)


def _rules_by_case(eng) -> pd.DataFrame:
    wide = eng.execute(
        _tagged_union(
            {
                f"{c}/{lv}/{by}": rule_credit_wide(
                    journey_touches(Tables(eng), JourneyOptions(conversion=c, level=lv, lookback_days=LOOKBACK)),
                    RULE_MODELS,
                    by=by,
                )
                for c, lv, by in CASES
            }
        )
    )
    parts = [
        long_credit(part.drop(columns="case"), list(RULE_MODELS)).assign(case=case)
        for case, part in wide.groupby("case")
    ]
    return pd.concat(parts).set_index(["case", "model", "key"]).sort_index()


def test_journeys_paths_rules_and_markov_agree_on_every_engine(engine, duckdb_reference):
    load(engine, COMPANY)
    touches = {
        f"{c}/{lv}/{by}": (
            journey_touches(Tables(engine), JourneyOptions(conversion=c, level=lv, lookback_days=LOOKBACK)),
            by,
        )
        for c, lv, by in CASES
    }
    paths = engine.execute(_tagged_union({case: path_counts(t, by=by) for case, (t, by) in touches.items()}))
    counts = engine.execute(
        _tagged_union(
            {
                f"{case}#{order}": transition_counts(t, by=by, order=order)
                for case, (t, by) in touches.items()
                for order in ORDERS[case]
            }
        )
    )
    direct = engine.execute(
        _tagged_union(
            {
                f"{c}/{lv}/{by}#{order}": journey_transition_counts(
                    Tables(engine), JourneyOptions(conversion=c, level=lv, lookback_days=LOOKBACK), by=by, order=order
                )
                for c, lv, by in CASES
                for order in ORDERS[f"{c}/{lv}/{by}"]
            }
        )
    )
    rules = _rules_by_case(engine)
    reference_rules_duckdb = _rules_by_case(duckdb_reference)
    pd.testing.assert_frame_equal(rules, reference_rules_duckdb, check_exact=False, rtol=1e-9, atol=1e-12)

    for conversion, level, by in CASES:
        case = f"{conversion}/{level}/{by}"
        journeys = reference_journeys(conversion, level, by)
        expected = reference_paths(journeys)
        got = paths[paths.case == case].drop(columns="case").set_index("path").sort_index()
        pd.testing.assert_frame_equal(got, expected, check_dtype=False, check_names=False, obj=case)

        by_hand = reference_rules(journeys)
        got_rules = rules.loc[case].loc[by_hand.index.get_level_values("model").unique()]
        got_rules = got_rules[got_rules.conversions.abs() > 1e-12]
        pd.testing.assert_frame_equal(
            got_rules, by_hand, check_exact=False, rtol=1e-9, check_names=False, check_index_type=False, obj=case
        )

        for order in ORDERS[case]:
            edges = counts[counts.case == f"{case}#{order}"].drop(columns="case")
            # counted from each entity's touches before any journey exists: the same edges, exactly
            same = direct[direct.case == f"{case}#{order}"].drop(columns="case")
            pd.testing.assert_frame_equal(_by_edge(same), _by_edge(edges), obj=f"{case} order {order}")
            from_engine = MarkovAttribution(order=order).fit_transitions(edges)
            from_paths = MarkovAttribution(order=order).fit(expected.reset_index())
            assert from_engine.states_ and sorted(from_engine.states_) == sorted(from_paths.states_), case
            pd.testing.assert_series_equal(
                from_engine.removal_effects_, from_paths.removal_effects_, rtol=1e-9, obj=f"{case} order {order}"
            )
            pd.testing.assert_frame_equal(
                from_engine.credit(), from_paths.credit(), check_exact=False, rtol=1e-9, obj=f"{case} order {order}"
            )


def test_attribution_credit_markov_from_engine_counts_equals_the_path_table_fit(duckdb_reference):
    """The comparison's Markov rows (engine transition counts) equal a fit on the pandas path table."""
    credit = attribution_credit(
        Tables(duckdb_reference),
        conversion="won",
        lookback_days=LOOKBACK,
        level="account",
        models=["markov", "markov_2"],
    )
    paths = reference_paths(reference_journeys("won", "account", "channel")).reset_index()
    for name, order in (("markov", 1), ("markov_2", 2)):
        got = credit[credit.model == name].set_index("key")[["conversions", "revenue"]].sort_index()
        exp = MarkovAttribution(order=order).fit(paths).credit().set_index("channel")[["conversions", "value"]]
        exp = exp.rename(columns={"value": "revenue"}).sort_index()
        pd.testing.assert_frame_equal(got, exp, check_exact=False, rtol=1e-9, check_names=False, obj=name)


@pytest.mark.parametrize(
    "options",
    [
        JourneyOptions(
            conversion="won", lookback_days=30, start="2024-03-01", end="2024-06-01", touch_types=("marketing",)
        ),
        JourneyOptions(conversion="opportunity", level="account", lookback_days=45, include_nulls=False),
        JourneyOptions(conversion="mql", lookback_days=LOOKBACK, start="2024-02-15"),
    ],
    ids=["won-period-marketing", "account-no-nulls", "mql-from"],
)
@pytest.mark.parametrize("order", [1, 3])
def test_transitions_from_entity_touches_equal_those_of_the_built_journeys(duckdb_reference, options, order):
    """Period bounds, touch types and no null journeys: the entity-window count equals the journey-window one."""
    tables = Tables(duckdb_reference)
    expected = duckdb_reference.execute(transition_counts(journey_rows(tables, options), order=order))
    got = duckdb_reference.execute(journey_transition_counts(tables, options, order=order))
    assert len(expected) > 5  # the case has journeys with several touches
    pd.testing.assert_frame_equal(_by_edge(got), _by_edge(expected))
