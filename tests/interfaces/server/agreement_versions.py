"""Two versions of the simulated company's agreement for the sign-off tests (server, CLI, browser).

Version 2 tightens the follow-up SLA from 24 to 12 hours from 2025-07-01 (and unties it from the catalog KPI,
whose 1-day window would otherwise disagree with it): with it in force, every MQL first touched between 12 and
24 hours after qualifying from July 2025 on is a breach.
"""

from __future__ import annotations

from pathlib import Path

from revalign.definitions.agreements.loader import AgreementBook, example_agreement_text, parse_agreements

V1 = example_agreement_text()
V2 = (
    V1.replace("version: 1\neffective_from: 2024-01-01", "version: 2\neffective_from: 2025-07-01")
    .replace("within: 24 hours", "within: 12 hours")
    .replace("    kpi: sla_followup_compliance\n", "")
)
assert V2.count("within: 12 hours") == 1 and "version: 2" in V2


def write_versions(folder: Path) -> None:
    """``agreements/v1.yaml`` and ``agreements/v2.yaml`` in a project folder."""
    (folder / "agreements").mkdir(exist_ok=True)
    (folder / "agreements" / "v1.yaml").write_text(V1, encoding="utf-8")
    (folder / "agreements" / "v2.yaml").write_text(V2, encoding="utf-8")


def book(*texts: str) -> AgreementBook:
    """The versions given, read straight from text (the independent side of the tests: no app state)."""
    return parse_agreements(*((t, f"v{i + 1}.yaml") for i, t in enumerate(texts)))
