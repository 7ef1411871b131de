"""Finding repeated events among a load's new ledger rows: the shortcuts against the plain pandas computation.

``_one_per_exact_change`` compares only events whose time recurs (found by a sort), and ``_new_ledger_rows``
finds repeated ids on the digests' numbers; both must agree with comparing every column (or every id text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from revalign.model.tables import LEDGER
from revalign.sources.load.diff import SAME_MOMENT, _one_per_exact_change, _recurring, event_digests, event_ids
from revalign.sources.values import PANDAS_DTYPES


def _events(n: int, seed: int) -> pd.DataFrame:
    """Exact and between-exports events over few records and times, so that twins and shared times abound."""
    rng = np.random.default_rng(seed)
    cols = {
        "event_id": [None] * n,
        "entity_type": ["lead"] * n,
        "entity_id": [f"L{i}" for i in rng.integers(0, 6, n)],
        "kind": ["field"] * n,
        "name": rng.choice(["owner_id", "lead_source"], n),
        "old_value": np.array(["a", "b", None], dtype=object)[rng.integers(0, 3, n)],
        "new_value": rng.choice(["c", "d"], n),
        "reason": [None] * n,
        "actor_id": np.array(["u1", "u2", None], dtype=object)[rng.integers(0, 3, n)],
        "occurred_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 4, n), unit="D"),
        "recorded_at": [pd.NaT] * n,
        "load_id": [None] * n,
        "time_precision": rng.choice(["exact", "between_exports"], n),
    }
    frame = pd.DataFrame(cols).astype({c.name: PANDAS_DTYPES[c.dtype] for c in LEDGER.columns})
    return frame.assign(_from=0)


def _plain_one_per_exact_change(frame: pd.DataFrame) -> pd.DataFrame:
    """The computation before the shortcut: every exact event compared on every column of its moment."""
    exact = ((frame["time_precision"].astype(object) == "exact") & frame["event_id"].isna()).to_numpy(dtype=bool)
    rows = frame[exact]
    twins = rows[rows.duplicated(SAME_MOMENT, keep=False).to_numpy(dtype=bool)]
    if not len(twins):
        return frame
    facts = ["old_value", "actor_id", "reason"]
    known = twins[facts].astype(object).groupby([twins[c] for c in SAME_MOMENT], dropna=False, sort=False)
    merged = twins.assign(**known.transform("first")).drop_duplicates(SAME_MOMENT)
    merged = merged.astype({c: frame[c].dtype for c in facts})
    return pd.concat([frame.drop(index=twins.index), merged]).sort_index(kind="stable")


def test_one_per_exact_change_matches_comparing_every_column() -> None:
    for seed in range(5):
        frame = _events(300, seed)
        got = _one_per_exact_change(frame)
        assert len(got) < len(frame)  # the fixture has twins to merge
        pd.testing.assert_frame_equal(got, _plain_one_per_exact_change(frame))


def test_events_with_unique_times_are_left_alone() -> None:
    frame = _events(50, 1)
    frame["occurred_at"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(50), unit="s")
    assert _one_per_exact_change(frame) is frame


def test_recurring_matches_pandas() -> None:
    rng = np.random.default_rng(0)
    for n in (0, 1, 2, 17, 5_000):
        values = rng.integers(-3, max(n // 2, 1), n)
        expected = pd.Series(values).duplicated(keep=False).to_numpy()
        np.testing.assert_array_equal(_recurring(values), expected)


def test_repeated_digests_are_repeated_ids() -> None:
    frame = _events(400, 2)
    ids = event_ids(frame)
    digest_repeats = pd.DataFrame(event_digests(frame)).duplicated(keep="first").to_numpy()
    np.testing.assert_array_equal(digest_repeats, ids.duplicated(keep="first").to_numpy())
    assert digest_repeats.any()


def test_event_ids_are_the_ones_stored_before() -> None:
    """Ids already in users' ledgers: computed by the code before the digests were split out (same hash, same
    joined text), so a reload finds the events it stored then."""
    assert event_ids(_events(400, 2)).iloc[0] == "538eba81d29341c05f979f297cac7eb5"
