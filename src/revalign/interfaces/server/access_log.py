"""The access log: one structured (JSON) line per request on the ``revalign.access`` logger.

An unattended server is debugged from its log, so each line says what a log search needs: ``method``, ``path``,
``status``, ``duration_ms``, the ``user`` who made it (the login or the token's owner; ``null`` when
anonymous), how they authenticated (``via``: session or token), the ``client`` address and ``scheme``. Behind a
reverse proxy with ``proxy_headers`` on, uvicorn has already replaced those two with the X-Forwarded-For/Proto
values of a trusted proxy, so the line shows the real client.

Nothing secret is written: no headers (cookies, ``Authorization``), no bodies (passwords), and query values of
parameters whose name says they are secret (``token``, ``password``, ``key``, ``csrf``…) are replaced by
``[redacted]``; the other query parameters (period, segment, kpi) stay, since they say which report was asked.

A pure ASGI middleware, installed outermost, so a streamed CSV stays streamed, a request refused by another
middleware (413) is logged with its status, and a crash is logged as 500 before it propagates.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revalign.interfaces.server.state.store import UserRecord

LOGGER = "revalign.access"
log = logging.getLogger(LOGGER)
SENSITIVE = ("token", "password", "passwd", "secret", "key", "csrf", "session", "auth", "code", "signature")
"""A query parameter whose name contains one of these has its value redacted."""
REDACTED = "[redacted]"


def redact_query(raw: bytes) -> str:
    """The query string with the values of secret-looking parameters replaced (empty when there is none)."""
    if not raw:
        return ""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    kept = [(k, REDACTED if any(word in k.lower() for word in SENSITIVE) else v) for k, v in pairs]
    return urlencode(kept, safe="[]")


class AccessLogMiddleware:
    """Writes the access-log line of every HTTP request once its response has started (or failed)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        state: dict[str, Any] = scope.setdefault("state", {})
        status = {"code": 500}

        async def recording(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, recording)
        finally:
            if log.isEnabledFor(logging.INFO):
                log.info(json.dumps(access_record(scope, state, status["code"], started), separators=(",", ":")))


def access_record(scope: Scope, state: dict[str, Any], status: int, started: float) -> dict[str, Any]:
    """The fields of one access-log line (see the module docstring)."""
    user = state.get("user")
    client = scope.get("client")
    return {
        "method": scope["method"],
        "path": scope["path"],
        "query": redact_query(scope.get("query_string", b"")),
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user": user.username if isinstance(user, UserRecord) else None,
        "via": state.get("via"),
        "client": client[0] if client else None,
        "scheme": scope.get("scheme"),
    }


def configure(level: str = "info", *, enabled: bool = True) -> None:
    """Send the access log to stderr (the journal, under systemd) at ``level``; ``enabled=False`` silences it.

    Called by ``revalign serve``; an application that embeds the app configures ``revalign.access`` itself.
    """
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s revalign.access %(message)s"))
        log.addHandler(handler)
        log.propagate = False
    log.setLevel(logging.getLevelName(level.upper()) if enabled else logging.WARNING)


def install(app: FastAPI) -> None:
    """Register the access log on ``app``; call it last in ``create_app`` so it wraps every other middleware."""
    app.add_middleware(AccessLogMiddleware)
