"""``ServerSettings``: everything the server itself configures (the project's own settings stay in revalign.yaml)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from revalign.interfaces.server.throttle import LoginThrottleSettings


class ServerSettings(BaseModel):
    """Cookie, session and cache behaviour of one server instance."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    secure_cookies: bool | None = Field(
        None, description="Mark cookies Secure. None: only when the request came over https."
    )
    session_hours: float = Field(12.0, gt=0, description="How long a login lasts.")
    cache_results: bool = Field(True, description="Keep computed reports in memory until the data is refreshed.")
    cache_check_seconds: float = Field(
        5.0, ge=0, description="Seconds between checks for new data or edited targets (one small query)."
    )
    cache_pages: bool = Field(
        True, description="Keep rendered pages (per viewer) beside the cached reports, dropped with them."
    )
    max_records: int = Field(500, ge=1, le=10_000, description="Largest page of drill-down records.")
    title: str = "revalign"
    login_throttle: LoginThrottleSettings = Field(default_factory=LoginThrottleSettings)
    max_request_bytes: int = Field(1_000_000, ge=1024, description="Largest request body of a write (413 beyond).")
    scheduled_refresh: bool = Field(True, description="Run revalign.yaml's alerts.refresh schedule in the server.")
    warm_reports: bool = Field(
        False,
        description="Compute every page's default view in the background when the data changes. `revalign serve` "
        "turns it on (REVALIGN_WARM_REPORTS); an app embedded with create_app computes only what is asked.",
    )
