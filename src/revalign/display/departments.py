"""Department names for people: ``revops`` reads "RevOps", ``customer_success`` "Customer success".

The canonical model keeps departments as lowercase keys (:data:`revalign.model.tables.DEPARTMENTS`); capitalising
the key on a page gave "Revops". One table of labels, used wherever a department is shown.
"""

from __future__ import annotations

LABELS = {
    "marketing": "Marketing",
    "sales": "Sales",
    "revops": "RevOps",
    "customer_success": "Customer success",
    "finance": "Finance",
    "executive": "Executive",
}


def department_label(department: str) -> str:
    """The name people use for ``department``; an unknown key (a project's own department) as words."""
    return LABELS.get(department) or department.replace("_", " ").capitalize()
