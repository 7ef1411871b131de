"""⑥ The shared dashboard: REST API (``/api/v1``, OpenAPI at ``/docs``) and server-rendered pages.

Build an app with :func:`create_app`; run it with ``revalign serve`` or ``revalign demo``. Pages and API
call the same report functions (``reports.py``), which call the library; the server computes no numbers.
"""

from __future__ import annotations

from revalign.interfaces.server.app import create_app
from revalign.interfaces.server.config import ServerSettings

__all__ = ["ServerSettings", "create_app"]
