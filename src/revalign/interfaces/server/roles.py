"""Roles and what each may see.

Departments read the shared dashboard; person-level pay data (quotas, quota attainment per rep) follows the
library's pay-privacy rule (:mod:`revalign.analytics.privacy`: the person, their managers, and the finance,
RevOps and admin roles); the admin pages are limited, and a rep sees only the records they own. Permissions
are data here so the docs, the API and the pages read one table.
"""

from __future__ import annotations

from enum import StrEnum

from revalign.analytics.privacy import PAY_ROLES


class Role(StrEnum):
    """A user's role in revalign (one per user)."""

    ADMIN = "admin"
    LEADERSHIP = "leadership"
    MARKETING = "marketing"
    SALES = "sales"
    REVOPS = "revops"
    FINANCE = "finance"
    CUSTOMER_SUCCESS = "customer_success"
    REP = "rep"


ROLES: tuple[str, ...] = tuple(r.value for r in Role)

ADMIN_ROLES = frozenset({Role.ADMIN})
"""May manage users and tokens of others, and clear the result cache."""

PAY_DATA_ROLES = frozenset(r for r in Role if r.value in PAY_ROLES)
"""May see everyone's person-level pay and attainment data (the library's :data:`PAY_ROLES`); anyone else sees
their own and their reports' through the ``owner_id`` their login is linked to."""

ALL_RECORDS_ROLES = frozenset(set(Role) - {Role.REP})
"""See every record behind a number; a rep sees only records whose owner_id is their own."""


def is_role(value: str) -> bool:
    return value in ROLES


def can_see_pay_data(role: str) -> bool:
    return role in PAY_DATA_ROLES


def sees_all_records(role: str) -> bool:
    return role in ALL_RECORDS_ROLES
