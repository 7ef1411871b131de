"""The catalog's rule list run by the one validator: every rule runs, every issue is collected (file, line, KPI)."""

from __future__ import annotations

from collections.abc import Sequence

from revalign.definitions.issues import Issue
from revalign.definitions.kpis.contents import CatalogContents
from revalign.definitions.kpis.rules import DEFAULT_RULES, Rule
from revalign.definitions.validate import run_rules


def validate(catalog: CatalogContents, rules: Sequence[Rule] = DEFAULT_RULES) -> list[Issue]:
    """Load issues first, then each rule's findings, most severe first within a stable file/line order."""
    return run_rules(catalog, rules, found=catalog.load_issues)
