"""revalign: one governed set of revenue KPIs for marketing, sales, RevOps and customer success.

The Python API: ``revalign.open_project(folder)`` returns a :class:`Project`; analytics live in
``revalign.analytics``, KPI definitions in ``revalign.kpis``, engines in ``revalign.engine``.
"""

from __future__ import annotations

from revalign.engine import Engine, connect
from revalign.errors import (
    CatalogError,
    ConfigError,
    DataError,
    EngineError,
    NotFittedError,
    PermissionDenied,
    RevalignError,
    SchemaError,
    UnknownNameError,
)
from revalign.project import Project, init_project, open_project

__version__ = "0.1.0"

__all__ = [
    "CatalogError",
    "ConfigError",
    "DataError",
    "Engine",
    "EngineError",
    "NotFittedError",
    "PermissionDenied",
    "Project",
    "RevalignError",
    "SchemaError",
    "UnknownNameError",
    "__version__",
    "connect",
    "init_project",
    "open_project",
]
