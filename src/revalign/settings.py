"""Project settings: the ``revalign.yaml`` of a project folder, validated as a whole.

One typed object (pydantic) so that every interface reads the same configuration and a wrong key is
reported with the file and the key, not as a crash later on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from revalign.errors import ConfigError

PROJECT_FILE = "revalign.yaml"


class SourceConfig(BaseModel):
    """A folder (or file) of exports and the mapping that turns it into canonical tables."""

    model_config = ConfigDict(extra="forbid")
    name: str
    path: str
    mapping: str = Field(description="A shipped mapping name (olist, x_education, generic_crm) or a YAML path.")


class SmtpSettings(BaseModel):
    """Where alert emails go out: an SMTP server; the password is read from an environment variable, never
    from the file (docs/alerts.md)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    host: str = "localhost"
    port: int = Field(25, ge=1, le=65535)
    sender: str = Field("revalign@localhost", alias="from", description="The From address.")
    starttls: bool = False
    username: str | None = None
    password_env: str = Field("REVALIGN_SMTP_PASSWORD", description="Environment variable holding the password.")
    timeout: float = Field(10.0, gt=0)


class RefreshSchedule(BaseModel):
    """How often the server runs ``revalign refresh``: ``every`` a duration ('1h', '30m', '1d') or ``cron``
    text ('0 6 * * 1-5'); one of the two."""

    model_config = ConfigDict(extra="forbid")
    every: str | None = None
    cron: str | None = None


class AlertSettings(BaseModel):
    """Delivery settings for alert rules (``alerts.yaml``): SMTP, named webhooks, an address book, links."""

    model_config = ConfigDict(extra="forbid")
    smtp: SmtpSettings | None = None
    webhooks: dict[str, str] = Field(
        default_factory=dict, description="Webhook name → URL (Slack-compatible); a URL may be '${ENV_VAR}'."
    )
    addresses: dict[str, list[str]] = Field(
        default_factory=dict, description="Email addresses per user name, role or team (an alert's audience)."
    )
    base_url: str = Field("http://localhost:8000", description="The server's address, for links in alerts.")
    refresh: RefreshSchedule | None = Field(None, description="When the server refreshes (sources, alerts).")


class Settings(BaseModel):
    """Everything a project folder configures. Paths are relative to the project folder."""

    model_config = ConfigDict(extra="forbid")
    name: str = "revalign"
    engine: str = Field("duckdb:///revalign.duckdb", description="Engine URL; duckdb paths are project-relative.")
    engine_conf: dict[str, str] = Field(
        default_factory=dict,
        description="Extra settings for a Spark engine (spark://, sc://): spark.* keys, e.g. spark.executor.memory: "
        "4g; they override revalign's own (docs/engines.md).",
    )
    currency: str = "USD"
    timezone: str = "UTC"
    fiscal_year_start_month: int = Field(1, ge=1, le=12)
    catalog: list[str] = Field(default_factory=list, description="Extra KPI catalog folders or files.")
    sources: list[SourceConfig] = Field(default_factory=list)
    kpi_store: bool = Field(
        False,
        description="Materialise every KPI x grain x standard slice on each `revalign refresh` (docs/kpi_store.md): "
        "pages, API and CLI then read stored values instead of compiling; off by default (a refresh takes minutes).",
    )
    state_url: str | None = Field(None, description="App state database (users, tokens); SQLite by default.")
    targets: dict[str, Any] = Field(
        default_factory=dict,
        description="Targets per KPI: a list of {period, value, <dimension>: <value>} or a {period: value} map "
        "(docs/targets.md); they override the catalog's targets for the same KPI, period and slice.",
    )
    target_files: list[str] | None = Field(
        None, description="Target files (.yaml/.csv), project-relative; default: targets.yaml and targets.csv."
    )
    extra: dict[str, Any] = Field(default_factory=dict, description="Settings owned by analytics modules.")
    audit: dict[str, Any] = Field(
        default_factory=dict,
        description="Audit detector tuning (windows, thresholds, marketing vs sales channels), validated by "
        "revalign.definitions.audit (docs/audit.md).",
    )
    alerts: AlertSettings = Field(default_factory=AlertSettings, description="Alert delivery and refresh schedule.")
    sync: dict[str, Any] = Field(
        default_factory=dict,
        description="CRM syncs: sync.salesforce (login_url, client_id, ${ENV} references for secrets), validated "
        "by revalign.sources.sync (docs/sync.md).",
    )
    writeback: dict[str, Any] = Field(
        default_factory=dict,
        description="What revalign writes back to the CRM (values → Object.Field, batch size), validated by "
        "revalign.definitions.writeback (docs/writeback.md).",
    )

    @field_validator("engine_conf", mode="before")
    @classmethod
    def _spark_keys(cls, value: Any) -> Any:
        """Spark reads only ``spark.*`` keys (others it ignores silently); YAML numbers and booleans become the
        text Spark expects (``true``, ``4``)."""
        if not isinstance(value, dict):
            return value
        wrong = sorted(str(k) for k in value if not str(k).startswith("spark."))
        if wrong:
            raise ValueError(f"keys must be spark.* settings; got {', '.join(wrong)}")
        return {str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in value.items()}


def load_settings(folder: Path) -> Settings:
    """Read and validate ``folder/revalign.yaml``; a missing file gives the defaults."""
    path = folder / PROJECT_FILE
    if not path.exists():
        return Settings()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{path}: {problems}") from exc


def resolve_engine_url(url: str, folder: Path) -> str:
    """Make a relative DuckDB file path relative to the project folder (absolute paths stay)."""
    prefix = "duckdb:///"
    if url.startswith(prefix):
        rel = url[len(prefix) :]
        if rel and rel != ":memory:" and not rel.startswith("/"):
            return "duckdb://" + str((folder / rel).resolve())
    return url
