"""Security headers on every response and a size limit on every request body.

A pure ASGI middleware (not Starlette's ``BaseHTTPMiddleware``) so that streamed responses stay streamed:

- **Content-Security-Policy** without inline script (``script-src 'self'``): the pages' scripts are files under
  ``/static`` and ``/assets``, and their data travels in ``<script type="application/json">`` blocks, which are not
  executed. ``frame-ancestors 'none'`` (and ``X-Frame-Options: DENY`` for old browsers) stops click-jacking.
  Styles may be inline because Plotly sizes its charts with ``style`` attributes. ``/docs`` and ``/redoc``
  (Swagger UI and ReDoc from installed assets) get a looser policy of their own, still same-origin only.
- ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: same-origin``.
- ``Cache-Control: no-store`` on every dynamic response (pages, API, CSV, the login form with its CSRF token),
  so a shared or back-button cache never keeps someone's numbers; static assets keep their own caching.
- A body limit on every write (``POST``, ``PUT``, ``PATCH``, ``DELETE``): ``max_request_bytes`` by default, less for
  routes that only ever take a small form (saved views). A larger body is refused with 413 and the API's JSON
  error before any route sees it, whether the client declared its length or streamed it.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revalign.interfaces.server.config import ServerSettings
from revalign.interfaces.server.errors import error_body
from revalign.interfaces.server.throttle import LoginThrottle

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; worker-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = frozenset({"/docs", "/docs/", "/redoc", "/redoc/", "/docs/oauth2-redirect"})
"""Swagger UI and ReDoc, served from installed assets (``apidocs.py``): an inline bootstrap script, ReDoc's
styled components and its blob worker need a looser policy of their own, still with nothing from another host."""
HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
CACHED_PREFIXES = ("/static/", "/assets/")
"""Files that are the same for everyone: they keep whatever caching they set."""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SMALL_FORMS = {"/api/v1/views": 64 * 1024, "/account/views": 64 * 1024}
"""Routes with a tighter body limit than the default (a saved view is a name and a few filters)."""


class SecurityMiddleware:
    """Adds the security headers and enforces the body limits described in the module docstring."""

    def __init__(self, app: ASGIApp, *, max_request_bytes: int, limits: Mapping[str, int] = SMALL_FORMS) -> None:
        self.app, self.max_request_bytes, self.limits = app, max_request_bytes, dict(limits)

    def limit_for(self, path: str) -> int:
        """The body limit of ``path``: the tightest configured prefix that matches, else the default."""
        matches = [n for prefix, n in self.limits.items() if path == prefix or path.startswith(prefix + "/")]
        return min([self.max_request_bytes, *matches])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if scope["method"] in WRITE_METHODS:
            limit = self.limit_for(path)
            body = await _read_body(scope, receive, limit)
            if body is None:
                await _too_large(limit)(scope, receive, _with_headers(send, path))
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, _with_headers(send, path))


async def _read_body(scope: Scope, receive: Receive, limit: int) -> list[Message] | None:
    """The request's body messages, or ``None`` once the declared or received length passes ``limit``."""
    declared = dict(scope["headers"]).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands the buffered body to the app, then the server's own (which waits for the client
    to go away, as a streamed response's disconnect listener expects)."""
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


def _too_large(limit: int) -> JSONResponse:
    message = f"The request body is larger than this route accepts ({limit:,} bytes)."
    errors = [{"loc": ["body"], "msg": message, "rule": "max_request_bytes"}]
    return JSONResponse(error_body(413, message, errors), status_code=413)


def _with_headers(send: Send, path: str) -> Send:
    """``send`` that adds the security headers to the response start (without overriding a route's own)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = MutableHeaders(scope=message)
            headers.setdefault("Content-Security-Policy", DOCS_CSP if path in DOCS_PATHS else CSP)
            for name, value in HEADERS.items():
                headers.setdefault(name, value)
            if not path.startswith(CACHED_PREFIXES):
                headers["Cache-Control"] = "no-store"
        await send(message)

    return wrapped


def install(app: FastAPI, settings: ServerSettings) -> None:
    """Register the middleware and the login throttle on ``app`` (over ``app.state.store``)."""
    app.state.throttle = LoginThrottle(app.state.store, settings.login_throttle)
    app.add_middleware(SecurityMiddleware, max_request_bytes=settings.max_request_bytes)
