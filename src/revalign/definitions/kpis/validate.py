"""Validate the whole catalog at once: every rule runs, every issue is collected (file, line, KPI)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from revalign.definitions.kpis.issues import Issue
from revalign.definitions.kpis.rules import DEFAULT_RULES

if TYPE_CHECKING:
    from revalign.definitions.kpis.catalog import Catalog


def validate(catalog: Catalog, rules: tuple = DEFAULT_RULES) -> list[Issue]:
    """Load issues first, then each rule's findings, most severe first within a stable file/line order."""
    issues = list(catalog.load_issues)
    for rule in rules:
        issues.extend(rule.check(catalog))
    return sorted(issues, key=lambda i: (-int(i.level), i.file or "", i.line or 0, i.kpi or ""))
