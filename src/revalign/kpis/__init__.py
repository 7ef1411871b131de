"""③ The KPI catalog: YAML definitions → validated spec → Ibis expressions → results.

from revalign.kpis import default_catalog, evaluate
cat = default_catalog()
cat.get("win_rate").description
evaluate(project.tables, project.catalog, ["win_rate", "new_revenue"], grain="quarter", by=("segment",))
"""

from __future__ import annotations

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.catalog import Catalog, default_catalog, load_catalog
from revalign.definitions.kpis.spec import STANDARD_DIMENSIONS, Kpi, MetricInput, Revision, SemanticModel, Target
from revalign.kpis.query import KpiQuery, QueryOptions, evaluate, kpi_rows, query

__all__ = [
    "STANDARD_DIMENSIONS",
    "Catalog",
    "Issue",
    "Kpi",
    "KpiQuery",
    "Level",
    "MetricInput",
    "QueryOptions",
    "Revision",
    "SemanticModel",
    "Target",
    "default_catalog",
    "evaluate",
    "kpi_rows",
    "load_catalog",
    "query",
]
