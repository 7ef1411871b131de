"""The Python API's entry point: a project folder = settings + engine + canonical tables + definitions.

``Project`` is a typed façade, split by what it covers (:mod:`.base` the folder, engine and definitions;
:mod:`.facade` KPIs, governance, flows and attribution; :mod:`.audit`, :mod:`.agreements`, :mod:`.scoring`).
It computes nothing itself, so the CLI, the server and a notebook all get the same numbers from the same
functions. It sits above the analytics and is never handed down into them.
"""

from __future__ import annotations

from revalign.project.base import DateLike
from revalign.project.facade import Project, init_project, open_project

__all__ = ["DateLike", "Project", "init_project", "open_project"]
