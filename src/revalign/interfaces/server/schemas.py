"""The API's response and request models (``<Thing>Public`` / ``<Thing>Create``), so OpenAPI documents them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    loc: list[str | int] = Field(description="Where: e.g. ['query', 'grain'].")
    msg: str
    rule: str = Field(description="The rule that was broken, e.g. 'enum', 'date_order', 'known_name'.")


class ErrorPublic(BaseModel):
    """Every error the API returns has this shape."""

    ok: Literal[False] = False
    error: str
    errors: list[ErrorDetail] = []
    status: int


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorPublic, "description": "No valid session or API token."},
    403: {"model": ErrorPublic, "description": "Your role may not see this."},
    404: {"model": ErrorPublic, "description": "Unknown name (with suggestions)."},
    422: {"model": ErrorPublic, "description": "Invalid parameter (names the parameter and the rule)."},
}


class ColumnPublic(BaseModel):
    name: str
    dtype: str
    unit: str | None = Field(
        None,
        description="How the column's numbers read: a unit (count, currency, percent, percent_points, ratio, days, "
        "hours, months, …), 'period' (each period's first day, read as its label: 2025-Q4), 'kpi' (each row's KPI's "
        "unit) or 'kpi_change' (a difference in it: a percent KPI changes by percentage points); null for text.",
    )


class TablePublic(BaseModel):
    """A result table as computed by the library: columns and JSON rows (NaN → null, dates → ISO).

    ``rows`` keep the raw values; ``formatted`` holds the same values as people read them on the pages, row by
    row, for every column with a unit (``$3,273,400``, ``36.1%``, ``+1.0 pt``, ``6.15×``, ``2025-Q4``).
    """

    name: str
    title: str
    columns: list[ColumnPublic]
    rows: list[dict[str, Any]]
    row_count: int
    formatted: list[dict[str, str]] = Field(
        default_factory=list,
        description="Row by row, the text shown for each column that has a unit (same order as rows).",
    )


class ReportPublic(BaseModel):
    """What a page shows, as data: its tables, notices and the filters applied."""

    ok: Literal[True] = True
    page: str
    title: str
    available: bool = Field(description="False when the analytic behind the page has not been computed/installed.")
    notices: list[str] = []
    filters: dict[str, Any] = {}
    tables: list[TablePublic] = []
    meta: dict[str, Any] = {}
    currency: str = Field("USD", description="The project's currency (ISO code) that currency values are in.")


class UserPublic(BaseModel):
    username: str
    display_name: str
    role: str
    owner_id: str | None = None
    can_see_pay_data: bool
    sees_all_records: bool


class UsersPublic(BaseModel):
    ok: Literal[True] = True
    users: list[UserPublic]


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=8, max_length=256)
    role: Literal["admin", "leadership", "marketing", "sales", "revops", "finance", "customer_success", "rep"]
    owner_id: str | None = Field(
        None,
        max_length=128,
        description="Canonical user_id the login acts as: a rep's records; whose pay data (own and reports').",
    )
    display_name: str | None = Field(None, max_length=256)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)


class TokenPublic(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked: bool


class TokenCreatedPublic(BaseModel):
    ok: Literal[True] = True
    token: str = Field(description="Shown once; send it as 'Authorization: Bearer <token>'.")
    name: str


class TokensPublic(BaseModel):
    ok: Literal[True] = True
    tokens: list[TokenPublic]


class SavedViewCreate(BaseModel):
    name: str = Field(min_length=1, max_length=128)
    page: Literal["overview", "scorecards", "funnel", "channels", "attribution", "glossary", "records"]
    query: dict[str, str] = Field(default_factory=dict, max_length=20)


class SavedViewPublic(BaseModel):
    name: str
    page: str
    query: dict[str, Any]


class SavedViewsPublic(BaseModel):
    ok: Literal[True] = True
    views: list[SavedViewPublic]


class HealthPublic(BaseModel):
    ok: Literal[True] = True
    version: str
    project: str


class OkPublic(BaseModel):
    ok: Literal[True] = True
    message: str = ""
