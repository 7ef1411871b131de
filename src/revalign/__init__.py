"""revalign: one governed set of revenue KPIs for marketing, sales, RevOps and customer success.

The Python API: ``revalign.open_project(folder)`` returns a :class:`Project`; analytics live in
``revalign.analytics``, KPI definitions in ``revalign.kpis``, engines in ``revalign.engine``.

The façade (``Project``, ``open_project``, ``init_project``) and the engine (``Engine``, ``connect``) are
imported on first use (module ``__getattr__``): every ``revalign.*`` import runs this file first, and they
pull in Ibis, pandas and scikit-learn (~3 s), which ``revalign --help`` and ``revalign version`` do not need.
"""

from __future__ import annotations

import typing

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

if typing.TYPE_CHECKING:
    from revalign.engine import Engine, connect
    from revalign.project import Project, init_project, open_project

__version__ = "0.1.0"


_LAZY = ("Engine", "connect", "Project", "init_project", "open_project")


def __dir__() -> list[str]:
    """The module's names, the lazily imported ones included (``dir(revalign)`` lists the whole API)."""
    return sorted({*globals(), *_LAZY})


def __getattr__(name: str) -> typing.Any:
    """The façade and the engine, imported when first asked for (see the module docstring)."""
    if name in ("Engine", "connect"):
        from revalign import engine

        return engine.Engine if name == "Engine" else engine.connect
    if name in ("Project", "init_project", "open_project"):
        from revalign import project

        return {"Project": project.Project, "init_project": project.init_project, "open_project": project.open_project}[
            name
        ]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
