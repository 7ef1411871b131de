"""Invariants every simulated table must satisfy, checked with plain pandas (not the generator's code)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from revalign.model.tables import OPPORTUNITY_STAGES, TABLES
from revalign.simulate import SimulatedCompany

STAGE_RANK = {s: i for i, s in enumerate(OPPORTUNITY_STAGES)}


@pytest.mark.parametrize("name", list(TABLES))
def test_every_canonical_table_has_exactly_the_canonical_schema(company: SimulatedCompany, name: str) -> None:
    table = company.tables[name]
    assert table.schema == TABLES[name].schema.to_pyarrow()
    if name != "scores":  # written by `revalign score apply` from an approved model, never by a source
        assert table.num_rows > 0, f"{name} is empty"


@pytest.mark.parametrize("name", [n for n, t in TABLES.items() if t.primary_key])
def test_primary_keys_are_unique_and_not_null(frames: dict[str, pd.DataFrame], name: str) -> None:
    key = list(TABLES[name].primary_key)
    df = frames[name]
    assert df[key].notna().all().all()
    assert not df.duplicated(key).any(), f"{name}: duplicate {key}"


@pytest.mark.parametrize("name", list(TABLES))
def test_non_nullable_columns_and_enums(frames: dict[str, pd.DataFrame], name: str) -> None:
    df = frames[name]
    for col in TABLES[name].columns:
        if not col.nullable:
            assert df[col.name].notna().all(), f"{name}.{col.name} has nulls"
        if col.enum:
            bad = set(df[col.name].dropna()) - set(col.enum)
            assert not bad, f"{name}.{col.name}: values {bad} not in {col.enum}"


@pytest.mark.parametrize(
    ("name", "fk"), [(n, fk) for n, t in TABLES.items() for fk in t.foreign_keys], ids=lambda x: getattr(x, "column", x)
)
def test_foreign_keys_resolve(frames: dict[str, pd.DataFrame], name: str, fk) -> None:
    values = frames[name][fk.column].dropna()
    known = set(frames[fk.ref_table][fk.ref_column])
    missing = set(values) - known
    assert not missing, f"{name}.{fk.column} → {fk.ref_table}: {len(missing)} unresolved, e.g. {sorted(missing)[:3]}"


def test_other_references_resolve(frames: dict[str, pd.DataFrame]) -> None:
    """References the model does not declare as FKs: ledger entities, subscription deals, touch accounts."""
    ids = {
        "lead": set(frames["leads"].lead_id),
        "opportunity": set(frames["opportunities"].opportunity_id),
        "account": set(frames["accounts"].account_id),
    }
    for etype, group in frames["ledger"].groupby("entity_type"):
        assert set(group.entity_id) <= ids[etype], etype
    assert set(frames["subscriptions"].opportunity_id.dropna()) <= ids["opportunity"]
    assert set(frames["touchpoints"].account_id.dropna()) <= ids["account"]
    users = set(frames["users"].user_id)
    assert set(frames["ledger"].actor_id.dropna()) <= users


def test_amounts_are_positive(frames: dict[str, pd.DataFrame]) -> None:
    assert (frames["opportunities"].amount > 0).all()
    assert (frames["subscriptions"].mrr > 0).all()
    assert (frames["spend"].amount > 0).all()
    assert (frames["quotas"].amount > 0).all()
    assert (frames["campaigns"].budget >= 0).all()


def test_no_opportunity_before_its_lead_or_account(frames: dict[str, pd.DataFrame]) -> None:
    o = frames["opportunities"].merge(frames["leads"][["lead_id", "created_at"]], on="lead_id", suffixes=("", "_lead"))
    assert len(o) == frames["opportunities"].lead_id.notna().sum()
    assert (o.created_at >= o.created_at_lead).all()
    closed = frames["opportunities"].dropna(subset=["closed_at"])
    assert (closed.closed_at >= closed.created_at).all()
    assert (closed.close_date == closed.closed_at.dt.date).all()


def test_closed_flags_match_stage(frames: dict[str, pd.DataFrame]) -> None:
    o = frames["opportunities"]
    assert (o.is_closed == o.stage.isin(["closed_won", "closed_lost"])).all()
    assert (o.is_won == (o.stage == "closed_won")).all()
    assert (o.closed_at.notna() == o.is_closed).all()
    assert (o.lost_reason.notna() == (o.stage == "closed_lost")).all()


def test_stage_history_is_ordered_and_ends_in_the_current_stage(frames: dict[str, pd.DataFrame]) -> None:
    stages = frames["ledger"][frames["ledger"].kind == "stage"].sort_values(["entity_id", "occurred_at"])
    current = frames["opportunities"].set_index("opportunity_id").stage
    assert set(stages.entity_id) == set(current.index), "every opportunity has a stage history"
    for opp, h in stages.groupby("entity_id", sort=False):
        ranks = [STAGE_RANK[s] for s in h.name]
        assert ranks == sorted(ranks) and len(set(ranks)) == len(ranks), (opp, list(h.name))
        assert sum(r >= 5 for r in ranks) <= 1, "closed at most once, and closed is final"
        assert h.name.iloc[-1] == current[opp]
        assert h.old_value.iloc[0] is None or pd.isna(h.old_value.iloc[0])
        assert list(h.old_value.iloc[1:]) == list(h.new_value.iloc[:-1])


def test_lifecycle_ledger_matches_leads(frames: dict[str, pd.DataFrame]) -> None:
    led = frames["ledger"]
    lc = led[led.kind == "lifecycle"].sort_values(["entity_id", "occurred_at"], kind="stable")
    leads = frames["leads"].set_index("lead_id")
    first = lc.groupby("entity_id").head(1).set_index("entity_id")
    assert (first.name == "lead").all() and first.old_value.isna().all()
    assert first.index.sort_values().equals(leads.index.sort_values())
    assert (first.occurred_at == leads.created_at.loc[first.index]).all(), "the lead event is the journey start"
    assert (lc.name == "lead").sum() == len(leads)
    last = lc.groupby("entity_id").tail(1).set_index("entity_id")
    assert (last.name == leads.lifecycle_stage.loc[last.index]).all()
    prev = lc.groupby("entity_id").new_value.shift(1)
    assert (lc.old_value.fillna("-") == prev.fillna("-")).all()
    assert (led.recorded_at >= led.occurred_at).all()
    rejected = lc[lc.name == "rejected"]
    assert rejected.reason.notna().all()
    adv = lc[lc.name == "advocate"]
    assert set(adv.reason) <= {"reference", "referral", "review"}


def test_lifecycle_order_per_converting_lead(frames: dict[str, pd.DataFrame]) -> None:
    """mql → accepted → sql → opportunity → customer, in time order, for every lead that became a customer."""
    lc = frames["ledger"][frames["ledger"].kind == "lifecycle"]
    t = lc.pivot_table(index="entity_id", columns="name", values="occurred_at", aggfunc="min")
    won = t[t.customer.notna()]
    inbound = won[won.mql.notna()]
    assert len(inbound) > 20
    assert (inbound.mql <= inbound.accepted).all()
    assert (inbound.accepted <= inbound.sql).all()
    assert (won.sql <= won.opportunity).all() and (won.opportunity <= won.customer).all()
    onb = won.dropna(subset=["onboarded"])
    assert (onb.onboarded >= onb.customer).all()
    cust = frames["leads"].set_index("lead_id").is_converted
    assert set(won.index) == set(cust[cust].index)


def test_touches_are_consistent(frames: dict[str, pd.DataFrame]) -> None:
    tp = frames["touchpoints"]
    assert set(tp.touch_type) == {"marketing", "sales"}
    leads = frames["leads"].set_index("lead_id")
    first = tp.groupby("lead_id").occurred_at.min()
    assert (first >= leads.created_at.loc[first.index]).all()
    # the sourcing touch is at created_at, on the lead's (original) source channel
    assert (first == leads.created_at.loc[first.index]).mean() > 0.99
    end = pd.Timestamp("2026-01-01")
    assert (tp.occurred_at < end).all()


def test_users_teams_and_quotas(frames: dict[str, pd.DataFrame]) -> None:
    users = frames["users"]
    assert {"sdr", "ae", "marketer", "csm", "manager"} <= set(users.role)
    aes = set(users[users.role == "ae"].user_id)
    q = frames["quotas"]
    assert set(q.user_id) == aes
    assert (q.groupby("user_id").size() == 8).all(), "two years of quarters"
    assert (q.period_end > q.period_start).all()
    assert frames["opportunities"].owner_id.isin(aes).all()
    assert frames["accounts"].owner_id.isin(aes).all()


def test_subscriptions(frames: dict[str, pd.DataFrame]) -> None:
    s = frames["subscriptions"]
    ended = s.dropna(subset=["end_date"])
    assert (ended.end_date > ended.start_date).all()
    opp = frames["opportunities"].set_index("opportunity_id")
    start_deal = opp.loc[s.opportunity_id]
    assert (start_deal.is_won.to_numpy()).all()
    assert (pd.to_datetime(s.start_date).to_numpy() >= pd.to_datetime(start_deal.close_date).to_numpy()).all()
    # each new-business customer line: MRR = amount / 12
    nb = s.merge(opp[opp.deal_type == "new_business"][["amount"]], left_on="opportunity_id", right_index=True)
    assert np.allclose(nb.mrr, (nb.amount / 12).round(2))
    assert {"expansion", "renewal"} <= set(frames["opportunities"].deal_type)
    assert s.end_date.isna().any() and s.end_date.notna().any()


def test_spend_matches_truth_and_has_people_costs(company: SimulatedCompany, frames: dict[str, pd.DataFrame]) -> None:
    sp = frames["spend"]
    media = sp[sp.channel.notna()].groupby("channel").amount.sum()
    for ch, d in company.truth.channels.items():
        if d["spend_by_day"]:
            assert media[ch] == pytest.approx(sum(d["spend_by_day"]), rel=1e-3), ch
    people = sp[sp.category == "salaries"].groupby("department").amount.sum()
    assert people["marketing"] > 0 and people["sales"] > 0
    # campaign spend falls inside the campaign's dates
    c = sp.dropna(subset=["campaign_id"]).merge(frames["campaigns"], on="campaign_id", suffixes=("", "_c"))
    assert ((c.date >= c.start_date) & (c.date <= c.end_date)).all()
    assert (c.channel == c.channel_c).all()


def test_web_traffic_implies_the_configured_visitor_to_lead_rate(
    company: SimulatedCompany, frames: dict[str, pd.DataFrame]
) -> None:
    wt = frames["web_traffic"].groupby("channel")[["sessions", "visitors", "new_visitors"]].sum()
    assert (wt.visitors <= wt.sessions).all() and (wt.new_visitors <= wt.visitors).all()
    leads = frames["leads"].groupby("lead_source").size()
    for ch, d in company.truth.channels.items():
        if d["visitor_to_lead"] is None:
            assert ch not in wt.index
            continue
        rate = leads[ch] / (wt.sessions[ch] / 1.25)
        assert rate == pytest.approx(d["visitor_to_lead"], rel=0.35), ch


def test_accounts_exist_before_their_leads_and_touches_match_campaigns(frames: dict[str, pd.DataFrame]) -> None:
    leads = frames["leads"].merge(
        frames["accounts"][["account_id", "created_at"]], on="account_id", suffixes=("", "_a")
    )
    assert len(leads) == frames["leads"].account_id.notna().sum()
    assert (leads.created_at >= leads.created_at_a).all()
    tp = frames["touchpoints"].dropna(subset=["campaign_id"]).merge(frames["campaigns"], on="campaign_id")
    day = tp.occurred_at.dt.date
    assert ((day >= tp.start_date) & (day <= tp.end_date)).all()
    assert (tp.channel_x == tp.channel_y).all()
    lead_acc = frames["leads"].set_index("lead_id").account_id
    touches = frames["touchpoints"]
    assert (touches.account_id.to_numpy() == lead_acc.loc[touches.lead_id].to_numpy()).all()
