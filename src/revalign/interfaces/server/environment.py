"""``REVALIGN_*`` environment variables: how an unattended server (systemd, a container) is configured.

A service manager starts ``revalign serve`` with no one at a terminal, so everything the command line sets can
come from the environment instead (``REVALIGN_PORT=8080``), next to the settings of the server itself
(:class:`~revalign.interfaces.server.config.ServerSettings`: ``REVALIGN_SESSION_HOURS``,
``REVALIGN_CACHE_RESULTS``…). pydantic-settings reads and types them; a wrong value stops the start with a
:class:`~revalign.errors.ConfigError` that names the variable, its value and what is allowed, rather than a
server that comes up half-configured. An option given on the command line wins over the variable. A
``REVALIGN_*`` name that nothing reads is reported with the closest known name (a typo such as
``REVALIGN_PROT`` would otherwise be silently ignored), but does not stop the start: other parts of revalign
and its sync credentials read variables of their own. The table of variables is in docs/deploy.md;
``tests/interfaces/server/test_unattended.py`` checks it lists every field.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from revalign.errors import ConfigError
from revalign.interfaces.server.config import ServerSettings

PREFIX = "REVALIGN_"
OTHER_VARIABLES = frozenset(
    {
        "REVALIGN_LOCK_TIMEOUT",  # engine/duckdb.py: how long a writer waits for the DuckDB file
        "REVALIGN_SMTP_PASSWORD",  # settings.py: the default alerts.smtp.password_env
        "REVALIGN_FAULT_AFTER",  # sources/load/faults.py: crash tests
        "REVALIGN_UPDATE_SCREENSHOTS",  # tests: make screenshots
    }
)
"""Variables read elsewhere in revalign: known, so never reported as unknown."""

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


class ServeEnvironment(BaseSettings):
    """What ``revalign serve`` needs to run unattended; each field ``name`` is read from ``REVALIGN_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, case_sensitive=False, extra="forbid", frozen=True)

    # -- where and how to listen (also options of `revalign serve`) -------------------------------------------
    project: Path = Field(Path("."), description="Project folder (with revalign.yaml).")
    state_url: str | None = Field(
        None, description="App state database URL (default: the project's state_url, else SQLite in .revalign/)."
    )
    host: str = Field("127.0.0.1", min_length=1, description="Interface to listen on; 0.0.0.0 exposes it.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port.")
    log_level: LogLevel = Field("info", description="Server log level; `info` writes the access log.")
    access_log: bool = Field(True, description="One structured line per request on the revalign.access logger.")
    proxy_headers: bool = Field(
        True, description="Honour X-Forwarded-Proto/For, and only from the addresses in forwarded_allow_ips."
    )
    forwarded_allow_ips: str = Field(
        "127.0.0.1", min_length=1, description="Comma-separated proxy addresses (or networks) trusted for them."
    )
    # -- the server's own settings (ServerSettings) --------------------------------------------------------
    secure_cookies: bool | None = Field(None, description="Mark cookies Secure; unset: when the request is https.")
    session_hours: float = Field(12.0, gt=0, description="How long a login lasts.")
    cache_results: bool = Field(True, description="Keep computed reports in memory until the data changes.")
    cache_check_seconds: float = Field(5.0, ge=0, description="Seconds between checks for new data.")
    cache_pages: bool = Field(True, description="Keep rendered pages (per viewer) with the cached reports.")
    max_records: int = Field(500, ge=1, le=10_000, description="Largest page of drill-down records.")
    title: str = Field("revalign", min_length=1, description="Name shown in the pages and the API docs.")
    max_request_bytes: int = Field(1_000_000, ge=1024, description="Largest request body of a write.")
    scheduled_refresh: bool = Field(True, description="Run revalign.yaml's alerts.refresh schedule in the server.")
    warm_reports: bool = Field(
        True, description="Compute every page's default view in the background when the data changes."
    )

    def server_settings(self) -> ServerSettings:
        """The :class:`ServerSettings` these variables set (login throttling keeps its defaults)."""
        return ServerSettings(**{name: getattr(self, name) for name in SERVER_FIELDS})


SERVER_FIELDS = tuple(name for name in ServeEnvironment.model_fields if name in ServerSettings.model_fields)


def variable(field: str) -> str:
    """The environment variable of a field: ``port`` → ``REVALIGN_PORT``."""
    return PREFIX + field.upper()


def serve_environment(overrides: Mapping[str, Any] | None = None) -> ServeEnvironment:
    """The serve configuration from the ``REVALIGN_*`` environment, command-line ``overrides`` winning.

    ``None`` in ``overrides`` means "not given on the command line". Raises :class:`ConfigError` naming every
    wrong variable (or option) at once.
    """
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        return ServeEnvironment(**given)
    except ValidationError as exc:
        raise ConfigError(_message(exc, given, os.environ)) from exc


def _message(exc: ValidationError, given: Mapping[str, Any], env: Mapping[str, str]) -> str:
    """One line per wrong setting: the variable (or the option, when given there), its value, what is allowed."""
    by_upper = {k.upper(): v for k, v in env.items()}
    lines = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        if field in given:
            where, value = f"--{field.replace('_', '-')}", given[field]
        else:
            where, value = variable(field), by_upper.get(variable(field), error.get("input"))
        lines.append(f"{where}={value!s}: {error['msg']}.")
    return "Invalid server configuration (docs/deploy.md lists every variable):\n  " + "\n  ".join(lines)


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """``REVALIGN_*`` names in the environment that nothing reads, each with the closest known name if any."""
    source = os.environ if environ is None else environ
    known = {variable(name) for name in ServeEnvironment.model_fields} | OTHER_VARIABLES
    notes = []
    for name in sorted(k.upper() for k in source if k.upper().startswith(PREFIX)):
        if name in known:
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
        notes.append(f"{name} is not a revalign serve setting" + (f"; did you mean {close[0]}?" if close else "."))
    return notes
