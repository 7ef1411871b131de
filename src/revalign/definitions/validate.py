"""The one validator: run every rule over a definition and collect every issue, never stopping at the first.

Each definition kind (the KPI catalog, a driver tree, the targets) has a list of :class:`Rule` objects, one small
class per rule (MetricFlow's single semantic-manifest validator). :func:`run_rules` runs them all over the
subject, adds the problems found while reading the files, and returns every issue in the order every listing
uses: errors first, then by file and line.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import Generic, TypeVar

from revalign.definitions.issues import Issue, sort_issues

S = TypeVar("S")


class Rule(ABC, Generic[S]):
    """A named check of one subject (a catalog, a tree, a set of targets) that returns issues and never raises."""

    name = "rule"

    @abstractmethod
    def check(self, subject: S) -> Iterable[Issue]:
        """Every problem of ``subject`` this rule finds (none: an empty iterable)."""


def run_rules(subject: S, rules: Sequence[Rule[S]], *, found: Iterable[Issue] = ()) -> list[Issue]:
    """``found`` (problems met while reading) plus every rule's findings on ``subject``, sorted."""
    issues = list(found)
    for rule in rules:
        issues.extend(rule.check(subject))
    return sort_issues(issues)


__all__ = ["Rule", "run_rules"]
