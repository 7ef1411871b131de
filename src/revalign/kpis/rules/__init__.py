"""Catalog validation rules, one small class each (MetricFlow's ``DEFAULT_RULES`` pattern)."""

from __future__ import annotations

DEFAULT_RULES: tuple = ()
