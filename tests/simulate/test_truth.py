"""The ground truth agrees with the data, and the data agrees with the configured model.

Reference computations here use only the configuration, the per-lead truth table and the canonical tables,
with plain numpy/pandas/scikit-learn; nothing from the generator's own arithmetic.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from revalign.simulate import FAULT_KINDS, SimulatedCompany, SimulationConfig

CFG = SimulationConfig()
EFFECT = {c.name: c.effect for c in CFG.channels}
END = pd.Timestamp("2026-01-01")


def test_realised_conversions_per_channel_match_the_model_within_sampling_error(truth_leads: pd.DataFrame) -> None:
    """For leads whose journey includes channel c: converted count ≈ Σ p, within 4 binomial standard errors."""
    for ch in EFFECT:
        g = truth_leads[truth_leads[f"x_{ch}"]]
        expected = g.p_convert.sum()
        sd = np.sqrt((g.p_convert * (1 - g.p_convert)).sum())
        assert abs(g.converted.sum() - expected) < 4 * sd, ch


def test_logistic_fit_recovers_the_configured_channel_effects(truth_leads: pd.DataFrame) -> None:
    """An unpenalised logistic regression on (segment, propensity, channel presence) finds each channel's effect
    within 4 standard errors (from the inverse Fisher information), and the propensity slope near 1."""
    seg = pd.get_dummies(truth_leads.segment).astype(float)
    x = truth_leads[[f"x_{c}" for c in EFFECT]].astype(float)
    X = np.column_stack([seg.to_numpy(), truth_leads.propensity.to_numpy(), x.to_numpy()])
    y = truth_leads.converted.to_numpy()
    model = LogisticRegression(C=np.inf, fit_intercept=False, max_iter=5000, tol=1e-10).fit(X, y)
    beta = model.coef_[0]
    p = 1 / (1 + np.exp(-X @ beta))
    cov = np.linalg.inv(X.T @ (X * (p * (1 - p))[:, None]))
    se = np.sqrt(np.diag(cov))
    k = seg.shape[1]
    assert abs(beta[k] - 1.0) < 4 * se[k]
    for j, ch in enumerate(EFFECT):
        assert abs(beta[k + 1 + j] - EFFECT[ch]) < 4 * se[k + 1 + j], (ch, beta[k + 1 + j], se[k + 1 + j])
    # segment intercepts too (dummy columns are alphabetical: enterprise, mid_market, smb)
    intercepts = dict(zip(["smb", "mid_market", "enterprise"], CFG.intercept, strict=True))
    for j, name in enumerate(seg.columns):
        assert abs(beta[j] - intercepts[name]) < 4 * se[j], name


def test_truth_channel_sums_equal_per_lead_recomputation(company: SimulatedCompany, truth_leads: pd.DataFrame) -> None:
    p, logit = truth_leads.p_convert.to_numpy(), truth_leads.logit.to_numpy()
    for ch, eff in EFFECT.items():
        x = truth_leads[f"x_{ch}"].to_numpy()
        incremental = ((p - 1 / (1 + np.exp(-(logit - eff)))) * x).sum()
        stats = company.truth.channels[ch]
        assert stats["incremental_conversions"] == pytest.approx(incremental, rel=1e-9, abs=1e-9)
        assert stats["leads_touched"] == x.sum()
        assert stats["leads_sourced"] == (truth_leads.true_source == ch).sum()
        assert stats["effect"] == eff
    assert EFFECT["direct"] == 0 and company.truth.channels["direct"]["incremental_conversions"] == 0
    # the logit really is intercept + propensity + Σ effects (recomputed from the configuration)
    seg_int = truth_leads.segment.map(dict(zip(["smb", "mid_market", "enterprise"], CFG.intercept, strict=True)))
    recomputed = seg_int + truth_leads.propensity + sum(truth_leads[f"x_{c}"] * e for c, e in EFFECT.items())
    assert np.allclose(recomputed, logit)


def test_journeys_in_the_data_are_the_journeys_in_the_truth(
    frames: dict[str, pd.DataFrame], truth_leads: pd.DataFrame
) -> None:
    """Channels of the touches at or before the conversion time = the truth's x columns; no later touch counts."""
    done = truth_leads[truth_leads.conversion_at < END].set_index("lead_id")
    tp = frames["touchpoints"].merge(done[["conversion_at"]], left_on="lead_id", right_index=True)
    journey = tp[tp.occurred_at <= tp.conversion_at]
    seen = journey.groupby(["lead_id", "channel"]).size().unstack(fill_value=0) > 0
    seen = seen.reindex(index=done.index, columns=list(EFFECT), fill_value=False)
    expected = done[[f"x_{c}" for c in EFFECT]].set_axis(list(EFFECT), axis=1)
    mismatched = (seen != expected).any(axis=1)
    assert not mismatched.any(), f"{mismatched.sum()} leads differ, e.g. {list(mismatched[mismatched].index[:3])}"
    # converting leads end their journey with a demo request, and their MQL is the conversion time
    conv = done[done.converted & done.mql]
    last = journey.sort_values("occurred_at").groupby("lead_id").tail(1).set_index("lead_id")
    assert (last.loc[conv.index].interaction == "demo_request").all()
    lc = frames["ledger"][(frames["ledger"].kind == "lifecycle") & (frames["ledger"].name == "mql")]
    mql_at = lc.set_index("entity_id").occurred_at
    assert (mql_at.loc[conv.index] == conv.conversion_at).all()


def test_opportunities_in_the_data_are_the_truths_conversions(
    frames: dict[str, pd.DataFrame], truth_leads: pd.DataFrame, labels: pd.DataFrame
) -> None:
    recreated = labels[labels.kind == "no_opportunity_recreate"]
    nb = frames["opportunities"][frames["opportunities"].deal_type == "new_business"]
    with_opp = set(nb.lead_id) - set(recreated.entity_id)
    expected = set(truth_leads[truth_leads.opportunity_by_end].lead_id) - set(recreated.related_id)
    assert with_opp == expected
    assert set(recreated.related_id) <= set(truth_leads[truth_leads.converted].lead_id)
    # realised opportunities per true source equal the truth's counts
    ch_stats = truth_leads[truth_leads.opportunity_by_end].true_source.value_counts()
    assert ch_stats.sum() == len(with_opp) + len(set(recreated.related_id) & set(truth_leads.lead_id))


def test_lead_source_overwrites_match_ledger_and_truth(
    frames: dict[str, pd.DataFrame], truth_leads: pd.DataFrame, labels: pd.DataFrame, company: SimulatedCompany
) -> None:
    ow = labels[labels.kind == "lead_source_overwrite"].set_index("entity_id")
    assert len(ow) >= 5
    leads = frames["leads"].set_index("lead_id")
    assert (leads.lead_source.loc[ow.index] == "outbound_sales").all()
    true = truth_leads.set_index("lead_id").true_source
    assert (true.loc[ow.index] == ow.original_value).all()
    rc = labels[labels.kind == "no_opportunity_recreate"]
    expected_sources = {**ow.original_value.to_dict(), **dict(zip(rc.entity_id, rc.original_value, strict=True))}
    assert company.truth.true_sources == expected_sources
    led = frames["ledger"]
    rows = led[(led.kind == "field") & (led.name == "lead_source") & (led.entity_type == "lead")].set_index("entity_id")
    assert set(rows.index) == set(ow.index), "every lead-source change in the ledger is a labelled overwrite"
    assert (rows.old_value.loc[ow.index] == ow.original_value).all()
    assert (rows.occurred_at.loc[ow.index] == ow.occurred_at).all()
    # the CRM's current source differs from the truth exactly for overwritten leads (originals of the truth)
    cur = leads.lead_source.loc[true.index]
    assert set(cur[cur != true].index) == set(ow.index)
    opp = frames["opportunities"].set_index("opportunity_id")
    assert (opp.lead_source.loc[ow.related_id] == "outbound_sales").all()
    # the overwrite happened after the hand-off (the opportunity's creation), by a rep
    assert (opp.created_at.loc[ow.related_id].to_numpy() < ow.occurred_at.to_numpy()).all()


def test_no_opportunity_recreations_are_what_the_label_says(
    frames: dict[str, pd.DataFrame], labels: pd.DataFrame, truth_leads: pd.DataFrame
) -> None:
    rc = labels[labels.kind == "no_opportunity_recreate"]
    assert len(rc) >= 5
    leads = frames["leads"].set_index("lead_id")
    led = frames["ledger"]
    dq = led[(led.kind == "lifecycle") & (led.name == "disqualified")].set_index("entity_id")
    assert set(dq.index) == set(rc.related_id)
    assert (dq.reason == "no_opportunity").all()
    new, orig = leads.loc[rc.entity_id], leads.loc[rc.related_id]
    assert (new.email.to_numpy() == orig.email.to_numpy()).all()
    assert (new.account_id.to_numpy() == orig.account_id.to_numpy()).all()
    assert (new.lead_source == "outbound_sales").all()
    true = truth_leads.set_index("lead_id").true_source
    assert (rc.original_value.to_numpy() == true.loc[rc.related_id].to_numpy()).all()
    gap = (new.created_at.to_numpy() - dq.occurred_at.loc[rc.related_id].to_numpy()) / np.timedelta64(1, "D")
    assert ((gap > 0) & (gap <= CFG.recreate_max_days)).all()
    opp = frames["opportunities"].set_index("lead_id").loc[rc.entity_id]
    acc_owner = frames["accounts"].set_index("account_id").owner_id.loc[orig.account_id]
    assert (opp.owner_id.to_numpy() != acc_owner.to_numpy()).mean() > 0.9  # another owner (after rare reassignments)


def _norm_email(e: str) -> str:
    return e.lower().replace("+crm@", "@")


def test_duplicates_are_what_the_label_says(frames: dict[str, pd.DataFrame], labels: pd.DataFrame) -> None:
    leads = frames["leads"].set_index("lead_id")
    dl = labels[labels.kind == "duplicate_lead"]
    assert len(dl) >= 20
    a, b = leads.loc[dl.entity_id], leads.loc[dl.related_id]
    assert [_norm_email(x) for x in a.email] == [_norm_email(x) for x in b.email]
    assert (a.created_at.to_numpy() > b.created_at.to_numpy()).all()
    accounts = frames["accounts"].set_index("account_id")
    da = labels[labels.kind == "duplicate_account"]
    assert len(da) >= 5
    x, y = accounts.loc[da.entity_id], accounts.loc[da.related_id]
    for col in ("segment", "region", "industry", "employees"):
        assert (x[col].to_numpy() == y[col].to_numpy()).all(), col
    assert all(
        n1.lower().split()[0].rstrip(",") == n2.lower().split()[0] for n1, n2 in zip(x.name, y.name, strict=True)
    )
    # every email shared by two leads is a labelled duplicate or a labelled re-creation
    e = leads.email.map(_norm_email)
    shared = set(e[e.duplicated(keep=False)].index)
    explained = set(dl.entity_id) | set(dl.related_id)
    rc = labels[labels.kind == "no_opportunity_recreate"]
    explained |= set(rc.entity_id) | set(rc.related_id)
    assert shared <= explained


def test_close_date_pushes_cross_quarters(frames: dict[str, pd.DataFrame], labels: pd.DataFrame) -> None:
    cp = labels[labels.kind == "close_date_push"]
    assert cp.entity_id.nunique() >= 5
    assert (cp.groupby("entity_id").size() >= 2).all()
    old, new = pd.to_datetime(cp.original_value), pd.to_datetime(cp.new_value)
    assert (new.dt.to_period("Q") > old.dt.to_period("Q")).all()
    led = frames["ledger"]
    rows = led[(led.kind == "field") & (led.name == "close_date")]
    assert len(rows) == len(cp) and set(rows.entity_id) == set(cp.entity_id)
    # each push happens on the last day of the quarter being abandoned
    pushed_on = pd.to_datetime(cp.occurred_at).dt.normalize()
    assert (pushed_on == old).all()


def test_stage_skips_are_labelled(frames: dict[str, pd.DataFrame], labels: pd.DataFrame) -> None:
    st = frames["ledger"][frames["ledger"].kind == "stage"]
    won = frames["opportunities"]
    won = won[(won.stage == "closed_won") & (won.deal_type == "new_business")]
    n_stages = st[st.entity_id.isin(won.opportunity_id)].groupby("entity_id").size()
    skipped = set(n_stages[n_stages < 6].index)
    lab = labels[labels.kind == "stage_skip"]
    assert len(lab) >= 3
    assert skipped == set(lab.entity_id)
    for opp, detail in zip(lab.entity_id, lab.detail, strict=True):
        assert not set(detail.split(",")) & set(st[st.entity_id == opp].name)


def test_sla_breaches_recomputed_from_the_data(
    frames: dict[str, pd.DataFrame], labels: pd.DataFrame, company: SimulatedCompany
) -> None:
    """Speed to lead = first sales touch after the MQL; a breach is more than 24 h."""
    led = frames["ledger"]
    mql = led[(led.kind == "lifecycle") & (led.name == "mql")].set_index("entity_id").occurred_at
    tp = frames["touchpoints"]
    sales = tp[(tp.touch_type == "sales")].merge(mql.rename("mql_at"), left_on="lead_id", right_index=True)
    first = (
        sales[sales.occurred_at > sales.mql_at].groupby("lead_id").agg(t=("occurred_at", "min"), m=("mql_at", "first"))
    )
    delay_h = (first.t - first.m).dt.total_seconds() / 3600
    breached = set(delay_h[delay_h > 24].index)
    assert breached == set(labels[labels.kind == "sla_breach"].entity_id)
    # slow reps (by their true parameters) breach far more often than fast ones
    leads_mql = frames["leads"][frames["leads"].lead_id.isin(first.index)]
    sdr = company.truth.leads.to_pandas().set_index("lead_id").sdr_id.loc[leads_mql.lead_id]
    rate = pd.Series([x in breached for x in sdr.index], index=sdr.index).groupby(sdr.to_numpy()).mean()
    prob = {r["user_id"]: r["breach_probability"] for r in company.truth.reps["followup"]}
    slow = [u for u in rate.index if prob[u] > 0.3]
    fast = [u for u in rate.index if prob[u] < 0.05]
    assert slow and fast
    assert rate[slow].min() > rate[fast].max()


def test_ground_truth_is_json_and_complete(company: SimulatedCompany) -> None:
    d = json.loads(json.dumps(company.truth.to_dict()))
    assert set(d["label_counts"]) == set(FAULT_KINDS)
    assert sum(d["label_counts"].values()) == len(d["labels"]) == company.truth.labels.num_rows
    assert set(d["channels"]) == set(EFFECT)
    for ch in d["channels"].values():
        assert {"effect", "response_curve", "incremental_conversions", "spend_total"} <= set(ch)
    assert d["counts"] == {k: t.num_rows for k, t in company.tables.items()}
    assert len(d["reps"]["followup"]) == 6 and d["reps"]["lead_source_gamers"]
    assert "logit" in d["notes"]["conversion_model"] or "exp" in d["notes"]["conversion_model"]


def test_expected_leads_follow_the_stated_concave_response_curve(company: SimulatedCompany) -> None:
    """Rebuild each paid channel's expected leads per day from the stated curve and the spend: they match, and
    beta < 1 means each extra dollar buys fewer leads (diminishing returns)."""
    ch = company.truth.channels
    organic = ch["organic_search"]["response_curve"]
    season = np.array(ch["organic_search"]["expected_leads_by_day"]) / (organic["unit"] * organic["base"])
    days = pd.date_range(company.truth.start, company.truth.end, inclusive="left")
    weekday = np.where(days.day_of_week >= 5, 0.3, 1.0)
    assert len(days) == len(season)
    for name, d in ch.items():
        c = d["response_curve"]
        if c["daily_budget"] == 0:
            continue
        assert 0 < c["beta"] < 1
        spend = np.array(d["spend_by_day"])
        rebuilt = c["unit"] * (
            c["base"] * season + c["spend_share"] * (spend / c["daily_budget"]) ** c["beta"] * weekday
        )
        assert np.allclose(rebuilt, d["expected_leads_by_day"], atol=1e-3), name


def test_mql_follows_the_scoring_rule_recomputed_from_touches(
    frames: dict[str, pd.DataFrame], truth_leads: pd.DataFrame
) -> None:
    """score = fit(segment) + 5 per journey touch (max 40) + 60 for a demo request; MQL when score >= 60."""
    done = truth_leads[truth_leads.conversion_at < END].set_index("lead_id")
    tp = frames["touchpoints"].merge(done[["conversion_at"]], left_on="lead_id", right_index=True)
    journey = tp[tp.occurred_at <= tp.conversion_at]
    n_touch = journey.groupby("lead_id").size().reindex(done.index, fill_value=0)
    demo = journey[journey.interaction == "demo_request"].groupby("lead_id").size().reindex(done.index, fill_value=0)
    fit = done.segment.map({"smb": 5.0, "mid_market": 15.0, "enterprise": 25.0})
    score = fit + np.minimum(5.0 * n_touch, 40.0) + 60.0 * (demo > 0)
    leads = frames["leads"].set_index("lead_id").loc[done.index]
    assert np.allclose(leads.score, score)
    led = frames["ledger"]
    mql = set(led[(led.kind == "lifecycle") & (led.name == "mql")].entity_id)
    assert set(score[score >= 60].index) == mql & set(done.index)
    assert 0.1 < len(mql) / len(frames["leads"]) < 0.5
