"""Precision and recall of every labelled kind against the simulator's ground truth, at scale s (three seeds).

Floors (issue #14): 0.95/0.95 for the two headline kinds, 0.9/0.9 for the others. A company simulated with the
gaming switched off must give no headline finding at all.
"""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from revalign.analytics.audit.detect import detect
from revalign.analytics.audit.findings import HEADLINE_KINDS
from revalign.engine import connect
from revalign.model.access import Tables
from revalign.simulate import SimulationConfig, simulate
from tests.analytics.audit.scoring import score

SEEDS = (0, 1, 2)
FLOORS = dict.fromkeys(HEADLINE_KINDS, 0.95)
NO_GAMING = dataclasses.replace(
    SimulationConfig(), overwrite_rate_gamer=0.0, overwrite_rate_other=0.0, recreate_rate=0.0
)


def _audit(scale: str, seed: int, config: SimulationConfig | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    company = simulate(scale=scale, seed=seed, config=config)
    engine = connect("duckdb://:memory:")
    try:
        company.write(engine)
        return detect(Tables(engine)), company.truth.labels.to_pandas()
    finally:
        engine.close()


@pytest.fixture(scope="module")
def audited_s() -> dict[int, tuple[pd.DataFrame, pd.DataFrame]]:
    return {seed: _audit("s", seed) for seed in SEEDS}


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("kind", sorted(FLOORS))
def test_precision_and_recall_at_scale_s(audited_s, seed: int, kind: str) -> None:
    findings, labels = audited_s[seed]
    s = score(findings, labels, kind)
    assert s.labels > 0, "the simulator injects this kind at scale s"
    assert s.precision >= FLOORS[kind], s
    assert s.recall >= FLOORS[kind], s


def test_no_headline_findings_without_gaming() -> None:
    findings, labels = _audit("s", 0, NO_GAMING)
    assert not labels["kind"].isin(HEADLINE_KINDS).any()  # the switch is really off
    assert not findings["kind"].isin(HEADLINE_KINDS).any(), findings.head()
