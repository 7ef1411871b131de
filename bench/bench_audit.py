"""The credit audit: the two headline detectors (and the whole audit) vs a plain pandas implementation, same run.

Data: the simulated company at the requested scale (``bench.data``), loaded into a DuckDB file once (setup, not
timed).

- Candidate (timed): ``revalign.analytics.audit.detect.detect(tables, kinds=HEADLINE_KINDS)`` on that DuckDB
  file — lead-source overwrites and no-opportunity re-creations as Ibis expressions; only the findings reach
  pandas.
- Baseline (timed): the plain-pandas detectors of ``tests/analytics/audit/reference.py`` (the ones the accuracy
  test checks revalign against), reading the ledger, leads and opportunities from Parquet (only the columns they
  need).
- Also timed: the whole audit (all eight detectors, duplicates scored with RapidFuzz), which has no baseline.
- Each returns (findings, revenue at stake) per headline kind; they must agree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from bench.measure import measure, table

TITLE = "Audit (headline detectors vs pandas, and the whole audit)"
Result = tuple[tuple[int, float], tuple[int, float]]
"""(findings, revenue at stake) of lead_source_overwrite, then of no_opportunity_recreate."""


def _summary(frame: Any) -> tuple[int, float]:  # a DataFrame (pandas is imported in the children only)
    return len(frame), round(float(frame["revenue_at_stake"].sum()), 2)


def revalign_headline(db: str) -> Result:
    from revalign.analytics.audit.detect import detect
    from revalign.analytics.audit.findings import HEADLINE_KINDS
    from revalign.engine import connect
    from revalign.model.access import Tables

    engine = connect(f"duckdb://{db}")
    found = detect(Tables(engine), kinds=HEADLINE_KINDS)
    engine.close()
    overwrite, recreate = HEADLINE_KINDS
    return _summary(found[found["kind"] == overwrite]), _summary(found[found["kind"] == recreate])


def revalign_all(db: str) -> int:
    from revalign.analytics.audit.detect import detect
    from revalign.engine import connect
    from revalign.model.access import Tables

    engine = connect(f"duckdb://{db}")
    found = detect(Tables(engine))
    engine.close()
    return len(found)


def pandas_headline(folder: str) -> Result:
    import pandas as pd
    from tests.analytics.audit.reference import overwrites, recreations

    root = Path(folder)
    cols = ["event_id", "entity_type", "entity_id", "kind", "name", "old_value", "new_value", "reason", "occurred_at"]
    ledger = pd.read_parquet(root / "ledger", columns=cols)
    leads = pd.read_parquet(
        root / "leads", columns=["lead_id", "account_id", "email", "lead_source", "owner_id", "created_at"]
    )
    opps = pd.read_parquet(
        root / "opportunities", columns=["opportunity_id", "lead_id", "created_at", "is_won", "amount"]
    )
    return _summary(overwrites(ledger, opps)), _summary(recreations(ledger, leads, opps))


def main(scale: str = "l", runs: int = 3) -> str:
    from bench.data import load_scale, scale_data
    from revalign.engine import connect

    folder = scale_data(scale)
    work = Path(tempfile.mkdtemp(prefix="revalign-bench-audit-"))
    db = str(work / "bench.duckdb")
    engine = connect(f"duckdb://{db}")
    rows = load_scale(engine, scale)
    engine.close()
    ours = measure("revalign headline (Ibis on DuckDB)", "bench.bench_audit:revalign_headline", db, runs=runs)
    base = measure("plain pandas headline", "bench.bench_audit:pandas_headline", str(folder), runs=runs)
    whole = measure("revalign whole audit (8 detectors)", "bench.bench_audit:revalign_all", db, runs=runs)
    same = ours.result == base.result
    ratio = base.median / ours.median
    out = [
        f"Data: {rows['leads']:,} leads, {rows['ledger']:,} ledger events, {rows['opportunities']:,} opportunities. "
        f"(findings, revenue at stake) of lead_source_overwrite and no_opportunity_recreate: revalign {ours.result}, "
        f"pandas {base.result} ({'identical' if same else 'DIFFERENT'}); the whole audit found {whole.result:,}.\n",
        table(
            [
                {
                    "implementation": m.label,
                    "median s": f"{m.median:.2f}",
                    "runs s": ", ".join(f"{x:.2f}" for x in m.seconds),
                    "peak MiB": f"{m.peak_mib:,.0f}",
                }
                for m in (ours, base, whole)
            ]
        ),
        f"\nrevalign's headline detectors take **{1 / ratio:.2f}×** the time of plain pandas "
        f"({'faster' if ratio >= 1 else 'slower'}) and peak at {ours.peak_mib / base.peak_mib:.2f}× its memory. "
        "The baseline's time includes reading three Parquet tables, revalign's the queries against the loaded "
        "DuckDB file (read cold: each run is a fresh process).\n",
    ]
    return "\n".join(out)
