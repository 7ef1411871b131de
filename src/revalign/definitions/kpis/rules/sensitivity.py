"""Rules about pay data: what the catalog treats as compensation data is also written in the YAML."""

from __future__ import annotations

from collections.abc import Iterator

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.rules.base import Rule
from revalign.definitions.kpis.sensitivity import PAY, PAY_TABLES, pay_source


class PaySensitivityRule(Rule):
    """A semantic model over a pay table, and a KPI computed from pay data, say ``sensitivity: pay``.

    The protection does not depend on the marking (:func:`~revalign.definitions.kpis.sensitivity.pay_kpis`
    inherits it), so these are warnings: they keep a reader of the YAML from taking a pay KPI for a public one.
    """

    name = "sensitivity"

    def issues(self, catalog: CatalogContents) -> Iterator[Issue]:
        for sm in catalog.semantic_models.values():
            if sm.table in PAY_TABLES and sm.sensitivity != PAY:
                yield self.issue(
                    sm,
                    f"semantic model {sm.name!r} reads {sm.table!r}, which holds pay data; it is treated as "
                    "`sensitivity: pay` — write that key so readers of the catalog know",
                    level=Level.WARNING,
                )
        for kpi in catalog.kpis.values():
            source = pay_source(kpi, catalog.kpis, catalog.semantic_models)
            if source is not None:
                yield self.issue(
                    kpi,
                    f"{kpi.name} is computed from pay data ({source}), so it is pay data too; add "
                    "`sensitivity: pay` so readers of the catalog know",
                    kpi=kpi.name,
                    level=Level.WARNING,
                )
