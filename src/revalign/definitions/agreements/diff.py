"""What changed between two versions of an agreement: every threshold, target, clock and signatory, side by side.

Signatories read the difference, not two YAML files: each version is flattened to ``(what, value)`` pairs with
SLAs and shared KPIs keyed by name (not by list position, so reordering the file changes nothing), and the pairs
that differ are the diff.
"""

from __future__ import annotations

from typing import Any

from revalign.definitions.agreements.spec import AgreementSpec

_SKIP = {"file", "agreement", "version", "label", "description"}
_KEYED = {"slas": "name", "kpis": "kpi", "signatories": "role"}


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, dict):
        if set(value) == {"text", "business", "seconds", "business_hours", "business_days"}:
            return {prefix: value["text"]}  # an allowance reads as the agreement wrote it ("24 hours")
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(_flat(item, f"{prefix}.{key}" if prefix else str(key)))
        return out
    if isinstance(value, list | tuple):
        if value and all(isinstance(v, dict) for v in value):
            return {k: v for i, item in enumerate(value) for k, v in _flat(item, f"{prefix}[{i}]").items()}
        return {prefix: ", ".join(map(str, value))} if value else {}
    return {} if value is None else {prefix: value}


def shared_kpi_key(item: dict[str, Any]) -> str:
    """A shared KPI's name in a diff: the KPI, its period and its slice (``new_revenue 2026-Q1 segment=smb``),
    popped from ``item`` so that only the target is left to compare (one KPI may have a target per period)."""
    period, cut = item.pop("period", None), item.pop("slice", None) or {}
    parts = [str(item.pop("kpi")), *([str(period)] if period else []), *(f"{k}={v}" for k, v in sorted(cut.items()))]
    return " ".join(parts)


def flatten(spec: AgreementSpec) -> dict[str, Any]:
    """``{"slas.mql_followup.within": "24 hours", "kpis.new_revenue 2026-Q1.target": 1500000.0, …}`` for one version."""
    data = spec.model_dump(mode="json", exclude=_SKIP)
    out: dict[str, Any] = {}
    for top, value in data.items():
        key = _KEYED.get(top)
        if key is not None:
            for item in value:
                name = shared_kpi_key(item) if top == "kpis" else item.pop(key)
                out.update(_flat(item, f"{top}.{name}") or {f"{top}.{name}": "yes"})
        else:
            out.update(_flat(value, top))
    return out


def version_diff(old: AgreementSpec | None, new: AgreementSpec) -> list[dict[str, Any]]:
    """Every item whose value differs from ``old`` to ``new`` (``None`` on a side: absent there), sorted by item.

    The first version (``old`` is ``None``) lists everything it sets.
    """
    before = flatten(old) if old is not None else {}
    after = flatten(new)
    rows = []
    for item in sorted(set(before) | set(after)):
        a, b = before.get(item), after.get(item)
        if a != b:
            rows.append({"item": item, "before": a, "after": b})
    return rows


__all__ = ["flatten", "shared_kpi_key", "version_diff"]
