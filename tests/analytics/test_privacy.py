"""The pay-privacy rule on a hand-made team tree (users.manager_id):

    U1 CEO
    ├── U2 VP sales
    │   ├── U3 manager east ── U5 rep, U6 rep
    │   └── U4 manager west ── U7 rep
    └── U8 VP marketing ── U9 marketer
    U10 contractor (no manager)

Quotas (2025-Q1): U3 900, U5 400, U6 300, U7 500, U10 100. Every expected set below is read off the drawing.
"""

from __future__ import annotations

import pandas as pd
import pytest

from revalign.analytics.privacy import (
    PAY_ROLES,
    PayScope,
    Viewer,
    check_kpi_access,
    hide_pay_rows,
    is_pay_kpi,
    pay_scope,
    reports_of,
    visible_records,
    visible_targets,
    visible_values,
)
from revalign.analytics.records import RECORD_TABLES
from revalign.definitions.kpis.catalog import default_catalog
from revalign.definitions.kpis.sensitivity import PAY_TABLES
from revalign.definitions.kpis.spec import Target
from revalign.errors import PermissionDenied
from revalign.model.access import Tables
from tests.analytics.funnel.builders import write

MANAGERS = {
    "U1": None,
    "U2": "U1",
    "U3": "U2",
    "U4": "U2",
    "U5": "U3",
    "U6": "U3",
    "U7": "U4",
    "U8": "U1",
    "U9": "U8",
    "U10": None,
}
QUOTAS = {"U3": 900.0, "U5": 400.0, "U6": 300.0, "U7": 500.0, "U10": 100.0}


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        ("U1", {"U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"}),  # everyone but the contractor
        ("U2", {"U2", "U3", "U4", "U5", "U6", "U7"}),
        ("U3", {"U3", "U5", "U6"}),
        ("U4", {"U4", "U7"}),
        ("U5", {"U5"}),  # a rep: only themself
        ("U8", {"U8", "U9"}),
        ("U10", {"U10"}),
        ("U99", {"U99"}),  # not in the tree: only themself
    ],
)
def test_reports_of_walks_down_the_tree(user, expected):
    assert reports_of(MANAGERS, user) == frozenset(expected)


def test_reports_of_ends_on_a_cycle_in_bad_data():
    assert reports_of({"A": "B", "B": "A", "C": "A"}, "A") == {"A", "B", "C"}


@pytest.fixture
def company(engine):
    write(
        engine,
        users=[{"user_id": u, "manager_id": m} for u, m in MANAGERS.items()],
        quotas=[
            {"user_id": u, "period_start": "2025-01-01", "period_end": "2025-03-31", "amount": a}
            for u, a in QUOTAS.items()
        ],
        spend=[{"date": "2025-01-05", "channel": "paid_search", "amount": 10.0}],
    )
    return Tables(engine)


@pytest.mark.parametrize("role", sorted(PAY_ROLES))
def test_pay_roles_see_everyone(company, role):
    assert pay_scope(company, Viewer(None, frozenset({role}))) == PayScope(everyone=True)


def test_scope_follows_the_users_table(company):
    assert pay_scope(company, Viewer("U3", frozenset({"sales"}))) == PayScope(False, frozenset({"U3", "U5", "U6"}))
    assert pay_scope(company, Viewer("U5", frozenset({"rep"}))) == PayScope(False, frozenset({"U5"}))
    # leadership is not a pay role: linked to the CEO it sees the CEO's tree (not the contractor); unlinked, nobody
    assert pay_scope(company, Viewer("U1", frozenset({"leadership"}))).owners == frozenset(MANAGERS) - {"U10"}
    assert pay_scope(company, Viewer(None, frozenset({"leadership"}))) == PayScope(False, frozenset())


def quota_owners(tables: Tables, viewer: Viewer | None, owner: str | None = None) -> set[str]:
    rows = visible_records(tables, "quotas", tables.table("quotas"), viewer, owner=owner)
    return set(tables.to_pandas(rows)["user_id"])


def test_quota_records_are_narrowed_to_the_viewers_tree(company):
    assert quota_owners(company, Viewer("U3", frozenset({"sales"}))) == {"U3", "U5", "U6"}
    assert quota_owners(company, Viewer("U2", frozenset({"sales"}))) == {"U3", "U5", "U6", "U7"}
    assert quota_owners(company, Viewer("U5", frozenset({"rep"}))) == {"U5"}
    assert quota_owners(company, Viewer("U3", frozenset({"sales"})), owner="U5") == {"U3", "U5", "U6"}  # allowed
    assert quota_owners(company, Viewer(None, frozenset({"finance"}))) == set(QUOTAS)
    assert quota_owners(company, None) == set(QUOTAS)  # no viewer: a trusted caller (CLI, notebook)


def test_quota_records_of_someone_outside_the_tree_are_refused(company):
    with pytest.raises(PermissionDenied, match="U7 are pay data"):
        quota_owners(company, Viewer("U3", frozenset({"sales"})), owner="U7")
    with pytest.raises(PermissionDenied, match="U6 are pay data"):
        quota_owners(company, Viewer("U5", frozenset({"rep"})), owner="U6")  # a rep, a colleague's quota
    with pytest.raises(PermissionDenied, match="not linked to a person"):
        quota_owners(company, Viewer(None, frozenset({"marketing"})), owner="U5")


def test_tables_without_pay_data_are_not_narrowed(company):
    spend = company.table("spend")
    assert visible_records(company, "spend", spend, Viewer(None, frozenset({"rep"})), owner=None) is spend


def test_pay_kpis_of_the_default_catalog():
    cat = default_catalog()
    assert {k for k in cat.kpis if is_pay_kpi(cat, k)} == {"quota", "quota_attainment", "pipeline_coverage"}


@pytest.mark.parametrize(
    ("viewer", "kpi", "by", "allowed"),
    [
        (Viewer("U5", frozenset({"rep"})), "quota_attainment", [], False),  # company level
        (Viewer("U5", frozenset({"rep"})), "quota_attainment", ["segment"], False),  # still many people
        (Viewer("U5", frozenset({"rep"})), "quota_attainment", ["owner"], True),  # own row (filtered after)
        (Viewer("U5", frozenset({"rep"})), "pipeline_coverage", [], False),  # inherits pay from quota
        (Viewer("U5", frozenset({"rep"})), "win_rate", [], True),  # not pay data
        (Viewer(None, frozenset({"marketing"})), "quota", ["owner"], False),  # linked to nobody
        (Viewer(None, frozenset({"finance"})), "quota", [], True),
        (Viewer(None, frozenset({"revops"})), "quota_attainment", [], True),
        (Viewer(None, frozenset({"admin"})), "pipeline_coverage", ["segment"], True),
    ],
)
def test_kpi_access(viewer, kpi, by, allowed):
    if allowed:
        check_kpi_access(default_catalog(), viewer, kpi, by)
    else:
        with pytest.raises(PermissionDenied, match="pay data"):
            check_kpi_access(default_catalog(), viewer, kpi, by)


def test_values_by_owner_keep_the_rows_in_scope():
    frame = pd.DataFrame({"owner": ["U3", "U5", "U6", "U7"], "value": [1.0, 0.5, 0.8, 1.2]})
    scope = PayScope(False, reports_of(MANAGERS, "U3"))
    visible = visible_values(frame, scope)
    assert list(visible.frame["owner"]) == ["U3", "U5", "U6"] and visible.hidden == 1
    assert visible_values(frame, PayScope(True)).frame is frame
    # a frame with no owner column is a value over many people: nothing of it is in a person's scope
    assert visible_values(frame.drop(columns="owner"), scope).hidden == 4


def test_scorecard_rows_of_pay_kpis_are_hidden():
    card = pd.DataFrame(
        {
            "kpi": ["new_revenue", "quota_attainment", "new_revenue", "quota_attainment"],
            "owner": ["U5", "U5", "U7", "U7"],
            "actual": [100.0, 0.25, 500.0, 1.0],
        }
    )
    pay = {"quota_attainment"}
    visible = hide_pay_rows(card, pay, PayScope(False, frozenset({"U5"})))
    # new_revenue is not pay data (both rows stay); quota_attainment only for U5
    assert list(zip(visible.frame["kpi"], visible.frame["owner"], strict=True)) == [
        ("new_revenue", "U5"),
        ("quota_attainment", "U5"),
        ("new_revenue", "U7"),
    ]
    assert visible.hidden == 1
    company_level = hide_pay_rows(card.drop(columns="owner"), pay, PayScope(False, frozenset({"U5"})))
    assert list(company_level.frame["kpi"]) == ["new_revenue", "new_revenue"] and company_level.hidden == 2


def test_targets_of_a_pay_kpi():
    targets = [
        Target(period="2025-Q1", value=1000.0),
        Target.model_validate({"period": "2025-Q1", "value": 400.0, "owner": "U5"}),
        Target.model_validate({"period": "2025-Q1", "value": 500.0, "owner": "U7"}),
    ]
    assert [t.value for t in visible_targets(targets, PayScope(False, frozenset({"U5"})))] == [400.0]
    assert visible_targets(targets, PayScope(True)) == targets


def test_the_drill_down_knows_the_same_pay_tables():
    """The records listing marks pay tables itself (``RecordTable.pay``); it must agree with the catalog's list."""
    pay = {name: spec.owner for name, spec in RECORD_TABLES.items() if spec.pay}
    assert pay == dict(PAY_TABLES)
