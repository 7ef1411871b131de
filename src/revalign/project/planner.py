"""The façade of the reverse-funnel planner (docs/planner.md): a revenue target → the volumes and spend it takes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from revalign.analytics.planner import DEFAULT_HISTORY_MONTHS, RevenuePlan, plan_revenue
from revalign.analytics.targets import write_targets
from revalign.definitions.target_files import project_target_files
from revalign.definitions.targets import text_or_none
from revalign.project.base import ProjectBase

PLAN_TARGETS_FILE = "targets.csv"
"""Where ``revenue_plan(..., save=True)`` writes when the project names no target file."""


class PlannerFacade(ProjectBase):
    """``revenue_plan``: the reverse funnel for a revenue target, and saving it as the project's targets."""

    def revenue_plan(
        self,
        target: float,
        period: str,
        *,
        history_end: dt.date | None = None,
        history_months: int = DEFAULT_HISTORY_MONTHS,
    ) -> RevenuePlan:
        """Deals, opportunities, SQLs, MQLs, leads and spend per channel for ``target`` revenue in ``period``, at the
        rates of the ``history_months`` months before ``history_end`` (default: the latest whole month of data)."""
        return plan_revenue(
            self.tables,
            self.catalog,
            target,
            period,
            history_end=history_end,
            history_months=history_months,
            fiscal_year_start_month=self.fiscal_year_start_month,
        )

    def save_plan_targets(self, plan: RevenuePlan, path: Path | None = None) -> Path:
        """Write ``plan`` as targets into ``path`` (default: the project's first target file, else targets.csv).

        Rows already in a CSV file for another KPI, period or slice are kept; the plan's rows replace those for the
        same KPI, period and channel, so re-planning a period does not pile up duplicates.
        """
        files = project_target_files(self.folder, self.settings.target_files)
        target = Path(path) if path is not None else (files[0] if files else self.folder / PLAN_TARGETS_FILE)
        target = target if target.is_absolute() else self.folder / target
        rows = plan.to_targets()
        if target.exists() and target.suffix.lower() == ".csv":
            kept = pd.read_csv(target, dtype=str, keep_default_na=False)
            kept["value"] = kept["value"].astype(float)
            keys = {
                (k, p, text_or_none(c) or "") for k, p, c in rows[["kpi", "period", "channel"]].itertuples(index=False)
            }
            channel = kept["channel"] if "channel" in kept.columns else pd.Series("", index=kept.index)
            stale = [(k, p, c) in keys for k, p, c in zip(kept["kpi"], kept["period"], channel, strict=True)]
            rows = pd.concat([kept[[not s for s in stale]], rows], ignore_index=True)
        elif target.exists():
            raise FileExistsError(f"{target} exists and is not a CSV file: give another --out to save the plan in")
        for column in ("channel", "note"):
            rows[column] = rows[column].replace("", None)
        return write_targets(rows, target)


__all__ = ["PLAN_TARGETS_FILE", "PlannerFacade"]
