"""① How ``revalign sync salesforce`` reaches the org: the ``sync.salesforce`` section of ``revalign.yaml`` and
the environment, resolved into one typed object.

A secret is never written in the project file: ``client_secret`` and ``password`` must be ``${NAME}`` references
(read from the environment variable ``NAME`` when the sync runs), and every key left out falls back to a
``SALESFORCE_*`` environment variable (:data:`ENVIRONMENT`). A missing value stops the sync before any request,
naming the variable to set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from revalign.errors import ConfigError

OBJECTS = (
    "User",
    "Account",
    "Campaign",
    "CampaignMember",
    "Lead",
    "Opportunity",
    "LeadHistory",
    "OpportunityFieldHistory",
)
"""The Salesforce objects a sync reads, in the order it reads them (records before the history that cites them)."""

ENVIRONMENT = {
    "login_url": "SALESFORCE_LOGIN_URL",
    "client_id": "SALESFORCE_CLIENT_ID",
    "client_secret": "SALESFORCE_CLIENT_SECRET",
    "username": "SALESFORCE_USERNAME",
    "password": "SALESFORCE_PASSWORD",
}
"""The environment variable each setting falls back to when ``revalign.yaml`` leaves it out."""

SECRETS = ("client_secret", "password")
"""Settings that may only be ``${NAME}`` references in the project file, never the value itself."""

_REFERENCE = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
_WHERE = "revalign.yaml sync.salesforce"


class SalesforceSettings(BaseModel):
    """The ``sync.salesforce`` section as written (values may be ``${NAME}`` references)."""

    model_config = ConfigDict(extra="forbid")
    login_url: str | None = Field(
        None, description="Where OAuth tokens come from: https://login.salesforce.com, https://test.salesforce.com "
        "(a sandbox) or the org's My Domain URL.",
    )  # fmt: skip
    client_id: str | None = Field(None, description="The connected app's consumer key.")
    client_secret: str | None = Field(None, description="The connected app's consumer secret: a ${NAME} reference.")
    username: str | None = Field(
        None, description="With a password: the username-password flow, else client credentials."
    )
    password: str | None = Field(None, description="The user's password (and security token): a ${NAME} reference.")
    api_version: str = Field("62.0", description="Salesforce REST API version.")
    schema_: str = Field("salesforce", alias="schema", description="Schema of the project's engine for the raw tables.")
    ca_bundle: str | None = Field(None, description="A CA bundle to verify the org's certificate (a corporate proxy).")
    retries: int = Field(5, ge=0, le=20, description="Retries of a request answered 429 or 503 (Retry-After honoured).")
    backoff: float = Field(0.5, ge=0, description="Seconds of exponential backoff when no Retry-After is given.")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for one response.")

    @field_validator(*SECRETS)
    @classmethod
    def _a_reference(cls, value: str | None) -> str | None:
        """A secret written in the file would be stored (and committed) in plain text."""
        if value is not None and _REFERENCE.match(value.strip()) is None:
            raise ValueError("must be a ${ENV_VAR} reference; secrets are never stored in revalign.yaml")
        return value


class SalesforceConfig(BaseModel):
    """The resolved settings of one sync: every reference read from the environment, every secret present."""

    model_config = ConfigDict(frozen=True)
    login_url: str
    client_id: str
    client_secret: str
    username: str | None
    password: str | None
    api_version: str
    schema_: str
    ca_bundle: str | None
    retries: int
    backoff: float
    timeout: float

    @property
    def flow(self) -> str:
        """The OAuth flow: ``password`` when a username is given, else ``client_credentials``."""
        return "password" if self.username else "client_credentials"


def salesforce_config(section: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> SalesforceConfig:
    """``sync.salesforce`` of ``revalign.yaml`` (none: every value from :data:`ENVIRONMENT`), resolved.

    Raises :class:`ConfigError` naming the key for a malformed section and the variable for a missing value.
    """
    env = os.environ if environ is None else environ
    try:
        written = SalesforceSettings.model_validate(dict(section or {}))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{_WHERE} is invalid: {problems}") from exc
    values: dict[str, Any] = written.model_dump()
    for key, variable in ENVIRONMENT.items():
        values[key] = _resolve(key, values[key], variable, env)
    if values["login_url"] is None:
        values["login_url"] = "https://login.salesforce.com"
    for key in ("client_id", "client_secret"):
        if not values[key]:
            raise ConfigError(
                f"{_WHERE}.{key} is not set: set the environment variable {ENVIRONMENT[key]} (or write "
                f"{key}: ${{YOUR_VARIABLE}} in revalign.yaml)"
            )
    if values["username"] and not values["password"]:
        raise ConfigError(
            f"{_WHERE}.password is not set for user {values['username']!r}: set {ENVIRONMENT['password']}"
        )
    values["login_url"] = str(values["login_url"]).rstrip("/")
    return SalesforceConfig(**values)


def _resolve(key: str, value: str | None, fallback: str, env: Mapping[str, str], where: str = _WHERE) -> str | None:
    """A ``${NAME}`` reference → ``NAME``'s value (an error naming ``NAME`` if unset); none → ``fallback``'s."""
    if value is None:
        return env.get(fallback) or None
    match = _REFERENCE.match(value.strip())
    if match is None:
        return value
    found = env.get(match.group(1))
    if not found:
        raise ConfigError(f"{where}.{key} reads the environment variable {match.group(1)}, which is not set")
    return found


# -- HubSpot -----------------------------------------------------------------------------------------------------------
HUBSPOT_OBJECTS = ("owners", "pipelines", "companies", "contacts", "deals")
"""The HubSpot objects a sync reads, in the order it reads them (contacts and deals bring their property history,
deals their associations with companies and contacts)."""

HUBSPOT_ENVIRONMENT = {
    "base_url": "HUBSPOT_BASE_URL",
    "access_token": "HUBSPOT_ACCESS_TOKEN",
    "client_id": "HUBSPOT_CLIENT_ID",
    "client_secret": "HUBSPOT_CLIENT_SECRET",
    "refresh_token": "HUBSPOT_REFRESH_TOKEN",
}
"""The environment variable each ``sync.hubspot`` setting falls back to when ``revalign.yaml`` leaves it out."""

HUBSPOT_SECRETS = ("access_token", "client_secret", "refresh_token")
_HUBSPOT_WHERE = "revalign.yaml sync.hubspot"


class HubSpotSettings(BaseModel):
    """The ``sync.hubspot`` section as written (values may be ``${NAME}`` references)."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(None, description="The API's root: https://api.hubapi.com (default).")
    access_token: str | None = Field(
        None, description="A private app's access token (a ${NAME} reference); else the OAuth refresh-token flow."
    )
    client_id: str | None = Field(None, description="The public app's client id (OAuth).")
    client_secret: str | None = Field(None, description="The public app's client secret: a ${NAME} reference.")
    refresh_token: str | None = Field(None, description="The portal's OAuth refresh token: a ${NAME} reference.")
    schema_: str = Field("hubspot", alias="schema", description="Schema of the project's engine for the raw tables.")
    ca_bundle: str | None = Field(None, description="A CA bundle to verify the API's certificate (a corporate proxy).")
    retries: int = Field(5, ge=0, le=20, description="Retries of a request answered 429 or 503 (Retry-After honoured).")
    backoff: float = Field(0.5, ge=0, description="Seconds of exponential backoff when no Retry-After is given.")
    timeout: float = Field(60.0, gt=0, description="Seconds to wait for one response.")
    page_size: int = Field(100, ge=1, le=200, description="Records a page (the search API allows 200 at most).")

    @field_validator(*HUBSPOT_SECRETS)
    @classmethod
    def _a_reference(cls, value: str | None) -> str | None:
        """A token written in the file would be stored (and committed) in plain text."""
        if value is not None and _REFERENCE.match(value.strip()) is None:
            raise ValueError("must be a ${ENV_VAR} reference; secrets are never stored in revalign.yaml")
        return value


class HubSpotConfig(BaseModel):
    """The resolved settings of one HubSpot sync: a private-app token, or the three values of the OAuth flow."""

    model_config = ConfigDict(frozen=True)
    base_url: str
    access_token: str | None
    client_id: str | None
    client_secret: str | None
    refresh_token: str | None
    schema_: str
    ca_bundle: str | None
    retries: int
    backoff: float
    timeout: float
    page_size: int

    @property
    def flow(self) -> str:
        """``private_app`` (a static token) or ``oauth`` (access tokens from the refresh token, renewed on expiry)."""
        return "private_app" if self.access_token else "oauth"


def hubspot_config(section: Mapping[str, Any] | None, environ: Mapping[str, str] | None = None) -> HubSpotConfig:
    """``sync.hubspot`` of ``revalign.yaml`` (none: every value from :data:`HUBSPOT_ENVIRONMENT`), resolved.

    Raises :class:`ConfigError` naming the key for a malformed section and the variables for missing credentials.
    """
    env = os.environ if environ is None else environ
    try:
        written = HubSpotSettings.model_validate(dict(section or {}))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"{_HUBSPOT_WHERE} is invalid: {problems}") from exc
    values: dict[str, Any] = written.model_dump()
    for key, variable in HUBSPOT_ENVIRONMENT.items():
        values[key] = _resolve(key, values[key], variable, env, _HUBSPOT_WHERE)
    values["base_url"] = str(values["base_url"] or "https://api.hubapi.com").rstrip("/")
    if not values["access_token"]:
        missing = [key for key in ("client_id", "client_secret", "refresh_token") if not values[key]]
        if missing:
            variables = ", ".join(HUBSPOT_ENVIRONMENT[key] for key in missing)
            raise ConfigError(
                f"{_HUBSPOT_WHERE} has no credentials: set {HUBSPOT_ENVIRONMENT['access_token']} (a private app's "
                f"token), or for OAuth {variables} (or write them as ${{YOUR_VARIABLE}} references in revalign.yaml)"
            )
    return HubSpotConfig(**values)
