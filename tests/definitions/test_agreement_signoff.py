"""Agreement versions for sign-off: the content hash signatories sign, who must sign, which versions count, and
the diff they read — each checked against a hand-worked expectation."""

from __future__ import annotations

import datetime as dt

from revalign.definitions.agreements.diff import version_diff
from revalign.definitions.agreements.loader import parse_agreements

V1 = """\
agreement: ms
version: 1
effective_from: 2025-01-01
signatories: [{role: marketing, person: cmo}, {role: sales, person: vp_sales}]
slas:
  - name: followup
    start: {lifecycle: mql}
    stop: {touch: sales}
    within: 24 hours
kpis:
  - {kpi: mql_to_sql_rate, target: 0.35}
"""
# the same content laid out differently: keys reordered, flow style, a comment
V1_RELAID = """\
# reformatted by hand
version: 1
agreement: ms
effective_from: 2025-01-01
kpis: [{target: 0.35, kpi: mql_to_sql_rate}]
slas: [{name: followup, within: 24 hours, start: {lifecycle: mql}, stop: {touch: sales}}]
signatories:
  - {role: marketing, person: cmo}
  - {role: sales, person: vp_sales}
"""
V2 = (
    V1.replace("version: 1", "version: 2")
    .replace("2025-01-01", "2025-07-01")
    .replace("within: 24 hours", "within: 12 hours")
    .replace("target: 0.35", "target: 0.4")
    .replace("{role: sales, person: vp_sales}]", "{role: sales, person: vp_sales}, {role: revops, person: ops}]")
)
V3 = V2.replace("version: 2", "version: 3").replace("2025-07-01", "2026-01-01")


def test_the_hash_is_of_the_content_not_the_layout_or_the_path():
    (a,) = parse_agreements((V1, "a.yaml")).versions
    (b,) = parse_agreements((V1_RELAID, "elsewhere/b.yaml")).versions
    (c,) = parse_agreements((V1.replace("24 hours", "25 hours"), "a.yaml")).versions
    assert a.content_hash() == b.content_hash()
    assert a.content_hash() != c.content_hash()
    assert len(a.content_hash()) == 64


def test_the_departments_that_sign_are_the_signatories_roles():
    book = parse_agreements((V1, "a"), (V2, "b"))
    v1, v2 = book.history("ms")
    assert v1.departments == ("marketing", "sales")
    assert v2.departments == ("marketing", "sales", "revops")
    assert v2.key == ("ms", 2)


def test_only_signed_versions_count_and_the_never_proposed_first_one_is_the_baseline():
    book = parse_agreements((V1, "a"), (V2, "b"), (V3, "c"))
    nothing: set[tuple[str, int]] = set()
    # no sign-off at all: the first version is the baseline; later ones are drafts
    assert book.approved_versions(nothing, nothing) == {("ms", 1)}
    # v2 proposed, not signed: it does not count
    assert book.approved_versions(nothing, {("ms", 2)}) == {("ms", 1)}
    # v2 signed: it counts from its date; v3 (never proposed) still does not
    assert book.approved_versions({("ms", 2)}, {("ms", 2)}) == {("ms", 1), ("ms", 2)}
    # v1 put up for signature and not signed: the baseline exception ends
    assert book.approved_versions(nothing, {("ms", 1)}) == frozenset()
    # a signature for a version no longer in the files counts for nothing
    assert book.approved_versions({("ms", 9)}, {("ms", 9)}) == {("ms", 1)}


def test_the_book_of_approved_versions_decides_what_is_in_force():
    book = parse_agreements((V1, "a"), (V2, "b"))
    day = dt.date(2025, 8, 1)
    assert book.in_force(day, "ms").version == 2
    assert book.only({("ms", 1)}).in_force(day, "ms").version == 1  # v2 unsigned: v1 still governs August
    assert book.only(None) is book


def test_the_diff_lists_exactly_what_the_new_version_changes():
    v1, v2 = parse_agreements((V1, "a"), (V2, "b")).history("ms")
    assert version_diff(v1, v2) == [
        {"item": "effective_from", "before": "2025-01-01", "after": "2025-07-01"},
        {"item": "kpis.mql_to_sql_rate.target", "before": 0.35, "after": 0.4},
        {"item": "signatories.revops.person", "before": None, "after": "ops"},
        {"item": "slas.followup.within", "before": "24 hours", "after": "12 hours"},
    ]
    assert version_diff(v1, v1) == []
    first = {r["item"]: r["after"] for r in version_diff(None, v1)}
    assert first["slas.followup.within"] == "24 hours" and first["signatories.sales.person"] == "vp_sales"
