"""Property tests: the table invariants hold for any seed, company size and chunking (tiny companies)."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from revalign.model.tables import OPPORTUNITY_STAGES, TABLES
from revalign.simulate import Scale, simulate

RANK = {s: i for i, s in enumerate(OPPORTUNITY_STAGES)}


def check_invariants(tables: dict[str, pd.DataFrame]) -> None:
    """The core invariants, written with pandas only."""
    for name, spec in TABLES.items():
        df = tables[name]
        if spec.primary_key:
            assert not df.duplicated(list(spec.primary_key)).any(), name
        for fk in spec.foreign_keys:
            assert set(df[fk.column].dropna()) <= set(tables[fk.ref_table][fk.ref_column]), (name, fk.column)
    leads = tables["leads"].set_index("lead_id")
    led = tables["ledger"]
    assert (led.recorded_at >= led.occurred_at).all()
    lc = led[led.kind == "lifecycle"].sort_values(["entity_id", "occurred_at"], kind="stable")
    first = lc.groupby("entity_id").head(1).set_index("entity_id")
    assert (first.name == "lead").all() and len(first) == len(leads)
    last = lc.groupby("entity_id").tail(1).set_index("entity_id")
    assert (last.name == leads.lifecycle_stage.loc[last.index]).all()
    opp = tables["opportunities"].set_index("opportunity_id")
    st_rows = led[led.kind == "stage"].sort_values(["entity_id", "occurred_at"])
    for oid, h in st_rows.groupby("entity_id"):
        ranks = [RANK[s] for s in h.name]
        assert ranks == sorted(set(ranks)), oid
        assert h.name.iloc[-1] == opp.stage.loc[oid]
    assert set(st_rows.entity_id) == set(opp.index)
    o = opp.dropna(subset=["lead_id"])
    assert (o.created_at.to_numpy() >= leads.created_at.loc[o.lead_id].to_numpy()).all()
    assert (opp.amount > 0).all() and (tables["subscriptions"].mrr > 0).all()
    tp = tables["touchpoints"]
    assert (tp.occurred_at.to_numpy() >= leads.created_at.loc[tp.lead_id].to_numpy()).all()


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**31 - 1),
    leads=st.integers(30, 400),
    chunk=st.integers(25, 250),
    sdrs=st.integers(1, 5),
    aes=st.integers(1, 6),
)
def test_invariants_hold_for_any_seed_size_and_chunking(seed: int, leads: int, chunk: int, sdrs: int, aes: int) -> None:
    scale = Scale("tiny", leads, sdrs=sdrs, aes=aes, csms=1, marketers=1, chunk_leads=chunk)
    company = simulate(scale=scale, seed=seed)
    for name, table in company.tables.items():
        assert table.schema == TABLES[name].schema.to_pyarrow(), name
    check_invariants({k: t.to_pandas() for k, t in company.tables.items()})
    assert company.truth.leads.num_rows == leads
