"""Canonical tables from whatever the caller holds: a :class:`~revalign.project.Project` or an ``Engine``.

Analytics sit below the project layer, so they cannot import ``Project``; they accept any object with
``.engine`` (a project) or ``.table``/``.execute`` (an engine). A canonical table that was never loaded is an
empty typed table, so a funnel over a project without opportunities returns zeros rather than failing.
"""

from __future__ import annotations

from typing import Any

import ibis
import ibis.expr.types as ir

from revalign.model.tables import canonical_table


class Canonical:
    """Lazy access to canonical tables plus ``execute`` on the right engine."""

    def __init__(self, source: Any) -> None:
        self.engine = getattr(source, "engine", source)

    def has(self, name: str) -> bool:
        return self.engine.has_table(name)

    def table(self, name: str) -> ir.Table:
        spec = canonical_table(name)
        if self.engine.has_table(name):
            return self.engine.table(name)
        return ibis.memtable(spec.schema.to_pyarrow().empty_table())

    def execute(self, expr: ir.Expr) -> Any:
        return self.engine.execute(expr)
