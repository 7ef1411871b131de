"""Departments are shown by the names people use: "RevOps", not the "Revops" capitalising the key gives."""

from __future__ import annotations

from revalign.display import department_label
from revalign.model.tables import DEPARTMENTS


def test_every_canonical_department_has_a_label_and_revops_keeps_its_capitals() -> None:
    assert department_label("revops") == "RevOps"
    assert department_label("customer_success") == "Customer success"
    assert all(department_label(d) and "_" not in department_label(d) for d in DEPARTMENTS)


def test_a_projects_own_department_reads_as_words() -> None:
    assert department_label("partner_channel") == "Partner channel"
