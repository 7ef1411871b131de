"""One JSON error shape for the whole API, and HTML error pages for people.

Every error the API returns looks like::

    {"ok": false, "error": "…", "errors": [{"loc": ["query", "grain"], "msg": "…", "rule": "…"}], "status": 422}

FastAPI's ``RequestValidationError`` is re-shaped into it, revalign's own errors are mapped to the status a
client can act on (an unknown name is a 404 with suggestions, a permission problem a 403, bad data or a bad
catalog a 422), and anything unexpected becomes a 500 whose message does not leak internals. Paths outside
``/api`` get the same information as an HTML page, and an anonymous visitor is sent to the login page.

Every error becomes a response *inside* the application (:class:`CatchAll`): Starlette hands an exception with no
handler of its own to its outermost middleware, which answers 500 and then re-raises, and the server closes the
client's keep-alive connection on that re-raise. Handled here, a 500 is just a response and the connection lives.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from revalign.errors import (
    CatalogError,
    ConfigError,
    DataError,
    EngineError,
    NotFittedError,
    PermissionDenied,
    RevalignError,
    UnknownNameError,
)

log = logging.getLogger("revalign.server")


class NotAuthenticated(RevalignError):
    """No valid session cookie or API token came with the request."""


class NotAvailable(RevalignError):
    """An analytic the page needs is not installed or not computed for this project yet."""

    def __init__(self, feature: str, reason: str) -> None:
        self.feature, self.reason = feature, reason
        super().__init__(f"{feature} is not available yet: {reason}")


class BadRequest(RevalignError):
    """A parameter is well-typed but not allowed (e.g. end before start); names the parameter."""

    def __init__(self, message: str, *, loc: tuple[str, ...] = (), rule: str = "invalid") -> None:
        self.loc, self.rule = list(loc), rule
        super().__init__(message)


def error_body(status: int, message: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The one error shape (see the module docstring)."""
    return {"ok": False, "error": message, "errors": errors or [], "status": status}


def status_for(exc: RevalignError) -> int:
    """The HTTP status a client can act on for each branch of the exception tree."""
    if isinstance(exc, NotAuthenticated):
        return 401
    if isinstance(exc, PermissionDenied):
        return 403
    if isinstance(exc, UnknownNameError):
        return 404
    if isinstance(exc, BadRequest | DataError | CatalogError | ConfigError | NotFittedError):
        return 422
    if isinstance(exc, NotAvailable):
        return 404
    if isinstance(exc, EngineError):
        return 503
    return 400


def _wants_json(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") or path in ("/openapi.json", "/healthz"):
        return True
    return "application/json" in request.headers.get("accept", "") and "text/html" not in request.headers.get(
        "accept", ""
    )


def _render(request: Request, status: int, message: str, errors: list[dict[str, Any]]) -> Response:
    if _wants_json(request):
        return JSONResponse(error_body(status, message, errors), status_code=status)
    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "status": status,
            "message": message,
            "errors": errors,
            "user": getattr(request.state, "user", None),
            "csrf": getattr(request.state, "csrf", None),
        },
        status_code=status,
    )


async def revalign_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RevalignError)
    status = status_for(exc)
    errors: list[dict[str, Any]] = []
    if isinstance(exc, BadRequest):
        errors = [{"loc": exc.loc, "msg": str(exc), "rule": exc.rule}]
    elif isinstance(exc, UnknownNameError):
        errors = [{"loc": [exc.kind], "msg": str(exc), "rule": "known_name"}]
    elif isinstance(exc, DataError):
        loc = [str(x) for x in (exc.file, exc.row, exc.column) if x is not None]
        errors = [{"loc": loc, "msg": str(exc), "rule": exc.rule or "data"}]
    elif isinstance(exc, CatalogError):
        errors = [{"loc": ["catalog"], "msg": str(i), "rule": "catalog"} for i in exc.issues] or [
            {"loc": ["catalog"], "msg": str(exc), "rule": "catalog"}
        ]
    if status >= 500:
        log.warning("engine error on %s: %s", request.url.path, exc)
    return _render(request, status, str(exc), errors)


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, Any]] = [
        {
            "loc": [str(p) for p in err.get("loc", ())],
            "msg": f"{'.'.join(str(p) for p in err.get('loc', ())[1:]) or 'request'}: {err.get('msg', 'invalid')}",
            "rule": str(err.get("type", "invalid")),
        }
        for err in exc.errors()
    ]
    message = "; ".join(e["msg"] for e in errors) or "Invalid request."
    return _render(request, 422, message, errors)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = str(exc.detail) if exc.detail else "Error"
    if exc.status_code == 404 and message == "Not Found":
        message = f"No page or endpoint at {request.url.path}. See /docs for the API."
    if exc.status_code == 405:
        message = f"{request.method} is not allowed on {request.url.path}."
    response = _render(request, exc.status_code, message, [])
    for key, value in (exc.headers or {}).items():
        response.headers[key] = value
    return response


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s", request.url.path)
    return _render(request, 500, "Internal error; the server log has the details.", [])


class CatchAll:
    """ASGI middleware: an exception no handler took becomes the 500 response of :func:`unexpected_error` here,
    so it never reaches Starlette's server-error middleware (which re-raises, and the connection is dropped).

    An exception after the response has started cannot be answered any more and is re-raised as before.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            response = await unexpected_error(Request(scope, receive), exc)
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app`` (before any other middleware, so :class:`CatchAll` sits innermost)."""
    app.add_exception_handler(RevalignError, revalign_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected_error)
    app.add_middleware(CatchAll)
