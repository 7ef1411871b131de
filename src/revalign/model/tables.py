"""② The canonical revenue model: the contract between sources and everything downstream.

Every source maps into these tables; every KPI, funnel, attribution model and page reads only them. Each
column carries the meaning a RevOps analyst needs, and ``docs/model.md`` is generated from this module, so
the documentation cannot drift from the code (a test regenerates it and compares).

Conventions:
- ids are strings (CRM ids are strings; a numeric id is cast on load);
- timestamps are naive UTC (``timestamp``); dates are calendar dates in the company's time zone;
- money is ``float64`` in the project currency (sources convert on load, keeping the original in raw);
- categorical values are snake_case codes (``paid_search``), mapped from source labels by the mapping's
  ``values`` section;
- the ``ledger`` is append-only: nothing is ever updated or deleted in it.
"""

from __future__ import annotations

from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt

from revalign.errors import UnknownNameError


@dataclass(frozen=True)
class Column:
    """One column of a canonical table."""

    name: str
    dtype: str  # an Ibis type string: "string", "int64", "float64", "boolean", "date", "timestamp"
    description: str
    nullable: bool = True
    enum: tuple[str, ...] | None = None  # allowed codes, when the column is categorical and closed

    @property
    def ibis_type(self) -> dt.DataType:
        return dt.dtype(self.dtype).copy(nullable=self.nullable)


@dataclass(frozen=True)
class ForeignKey:
    """``column`` must match ``ref_table.ref_column`` when it is not null."""

    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class Table:
    """A canonical table: name, grain, columns, primary key and foreign keys."""

    name: str
    description: str
    grain: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    time_column: str | None = None  # the column an analyst filters a period on
    append_only: bool = False

    @property
    def schema(self) -> ibis.Schema:
        return ibis.schema({c.name: c.ibis_type for c in self.columns})

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise UnknownNameError(f"column of {self.name}", name, self.column_names)


C = Column
FK = ForeignKey

CHANNELS = (
    "organic_search",
    "paid_search",
    "paid_social",
    "email",
    "events",
    "webinar",
    "content",
    "partner_referral",
    "direct",
    "outbound_sales",
    "other",
    "unknown",
)
"""Canonical channel codes. ``unknown`` is what a blank or unmapped source becomes (never a silent drop)."""

SEGMENTS = ("smb", "mid_market", "enterprise", "unknown")
DEPARTMENTS = ("marketing", "sales", "revops", "customer_success", "finance", "executive")
JOB_LEVELS = ("individual_contributor", "manager", "director", "vp", "c_level")
"""A lead's seniority, most junior first."""
JOB_FUNCTIONS = ("other", "hr", "finance", "it", "marketing", "sales", "revenue_operations")
"""A lead's job function (the person's department at their company, not ours)."""
TECH_FIT = ("low", "medium", "high")
"""How well an account's technology stack fits the product (technographic data)."""
LIFECYCLE_STAGES = (
    "lead",
    "mql",
    "accepted",
    "rejected",
    "sql",
    "opportunity",
    "customer",
    "onboarded",
    "advocate",
    "recycled",
    "disqualified",
)
"""Lifecycle stages recorded in the ledger, in funnel order (``rejected``/``recycled``/``disqualified`` are exits)."""

OPPORTUNITY_STAGES = (
    "discovery",
    "qualification",
    "solution",
    "proposal",
    "negotiation",
    "closed_won",
    "closed_lost",
)
DEAL_TYPES = ("new_business", "expansion", "renewal")
LEDGER_KINDS = ("lifecycle", "stage", "field")
TIME_PRECISIONS = ("exact", "between_exports")
"""How precise a ledger row's ``occurred_at`` is: ``exact`` when the source recorded the moment (a CRM field-history
row, a created date, a simulated event); ``between_exports`` when the change was seen by comparing two exports, so
it happened after the earlier export and at or before ``occurred_at`` (the row's last-modified time, else the
later export's time)."""
FORECAST_CATEGORIES = ("commit", "best_case", "pipeline")
"""Forecast categories, as in CRM forecasting tools: what the rep commits to, the upside if things go well, and
the whole open pipeline due in the period."""
PERIOD_GRAINS = ("month", "quarter", "year")

TABLES: dict[str, Table] = {}


def _register(table: Table) -> Table:
    TABLES[table.name] = table
    return table


ACCOUNTS = _register(
    Table(
        "accounts",
        "Companies you sell to (prospects and customers).",
        grain="one row per account",
        columns=(
            C("account_id", "string", "Account id from the CRM.", nullable=False),
            C("name", "string", "Company name."),
            C("segment", "string", "Size segment: smb, mid_market or enterprise.", enum=SEGMENTS),
            C("industry", "string", "Industry code."),
            C("region", "string", "Sales region (e.g. emea, na, apac, latam)."),
            C("employees", "int64", "Head count, when known."),
            C("owner_id", "string", "Account owner (a user)."),
            C("created_at", "timestamp", "When the account was created in the CRM."),
            C("employee_growth", "float64", "Head-count growth over the last 12 months (0.08 = +8 %), when known."),
            C("tech_fit", "string", "Technographic fit of the account's stack: low, medium or high.", enum=TECH_FIT),
        ),
        primary_key=("account_id",),
        foreign_keys=(FK("owner_id", "users", "user_id"),),
        time_column="created_at",
    )
)

LEADS = _register(
    Table(
        "leads",
        "People who entered the funnel (CRM leads and contacts). Current state; history lives in the ledger.",
        grain="one row per lead",
        columns=(
            C("lead_id", "string", "Lead (or contact) id from the CRM.", nullable=False),
            C("account_id", "string", "Account the lead belongs to, once matched."),
            C("email", "string", "Email address (used to spot duplicates)."),
            C(
                "created_at",
                "timestamp",
                "When the lead was created: the start of its journey.",
                nullable=False,
            ),
            C(
                "lead_source",
                "string",
                "Channel that sourced the lead (canonical channel code).",
                enum=CHANNELS,
            ),
            C(
                "lead_source_detail",
                "string",
                "Source as written in the CRM before mapping, or a sub-source.",
            ),
            C("campaign_id", "string", "Campaign that sourced the lead."),
            C("owner_id", "string", "Current owner (SDR or AE)."),
            C("segment", "string", "Segment of the lead's company.", enum=SEGMENTS),
            C("region", "string", "Region."),
            C("industry", "string", "Industry."),
            C("lifecycle_stage", "string", "Current lifecycle stage.", enum=LIFECYCLE_STAGES),
            C("score", "float64", "Lead score at the last refresh, when scored."),
            C("is_converted", "boolean", "Whether the lead became a customer (as known by the source)."),
            C(
                "job_level",
                "string",
                "Seniority: individual_contributor, manager, director, vp, c_level.",
                enum=JOB_LEVELS,
            ),
            C(
                "job_function",
                "string",
                "The person's function at their company (sales, it, hr, …).",
                enum=JOB_FUNCTIONS,
            ),
        ),
        primary_key=("lead_id",),
        foreign_keys=(
            FK("account_id", "accounts", "account_id"),
            FK("owner_id", "users", "user_id"),
            FK("campaign_id", "campaigns", "campaign_id"),
        ),
        time_column="created_at",
    )
)

USERS = _register(
    Table(
        "users",
        "People who work the revenue process: SDRs, AEs, marketers, CSMs, managers.",
        grain="one row per person",
        columns=(
            C("user_id", "string", "User id.", nullable=False),
            C("name", "string", "Display name."),
            C("email", "string", "Email."),
            C("role", "string", "Role: sdr, ae, marketer, csm, manager, revops, executive."),
            C("department", "string", "Department.", enum=DEPARTMENTS),
            C("team_id", "string", "Team."),
            C("manager_id", "string", "Manager (a user)."),
            C("hired_at", "date", "Start date (for ramp and productivity)."),
        ),
        primary_key=("user_id",),
        foreign_keys=(FK("team_id", "teams", "team_id"), FK("manager_id", "users", "user_id")),
    )
)

TEAMS = _register(
    Table(
        "teams",
        "Teams of users, each in one department.",
        grain="one row per team",
        columns=(
            C("team_id", "string", "Team id.", nullable=False),
            C("name", "string", "Team name."),
            C("department", "string", "Department.", enum=DEPARTMENTS),
            C("region", "string", "Region the team covers."),
        ),
        primary_key=("team_id",),
    )
)

QUOTAS = _register(
    Table(
        "quotas",
        "Revenue quotas per person and period (quota attainment, pipeline coverage).",
        grain="one row per user and period",
        columns=(
            C("user_id", "string", "Quota holder.", nullable=False),
            C("period_start", "date", "First day of the quota period.", nullable=False),
            C("period_end", "date", "Last day of the quota period.", nullable=False),
            C("amount", "float64", "Quota amount (new revenue).", nullable=False),
        ),
        primary_key=("user_id", "period_start"),
        foreign_keys=(FK("user_id", "users", "user_id"),),
        time_column="period_start",
    )
)

CAMPAIGNS = _register(
    Table(
        "campaigns",
        "Marketing and sales campaigns.",
        grain="one row per campaign",
        columns=(
            C("campaign_id", "string", "Campaign id.", nullable=False),
            C("name", "string", "Campaign name."),
            C("channel", "string", "Channel the campaign runs in.", enum=CHANNELS),
            C("type", "string", "Campaign type (ads, webinar, event, nurture, outbound, …)."),
            C("start_date", "date", "First day."),
            C("end_date", "date", "Last day."),
            C("budget", "float64", "Planned budget."),
        ),
        primary_key=("campaign_id",),
        time_column="start_date",
    )
)

TOUCHPOINTS = _register(
    Table(
        "touchpoints",
        "Every marketing and sales touch on a lead: the raw material of journeys and attribution.",
        grain="one row per touch",
        columns=(
            C("touchpoint_id", "string", "Touch id.", nullable=False),
            C("lead_id", "string", "Lead touched.", nullable=False),
            C("account_id", "string", "Account of the lead."),
            C("occurred_at", "timestamp", "When the touch happened.", nullable=False),
            C("channel", "string", "Channel of the touch.", enum=CHANNELS),
            C("campaign_id", "string", "Campaign of the touch."),
            C("touch_type", "string", "marketing or sales.", enum=("marketing", "sales")),
            C(
                "interaction",
                "string",
                "What happened: ad_click, visit, form_fill, email_click, event, call, …",
            ),
        ),
        primary_key=("touchpoint_id",),
        foreign_keys=(FK("lead_id", "leads", "lead_id"), FK("campaign_id", "campaigns", "campaign_id")),
        time_column="occurred_at",
    )
)

SPEND = _register(
    Table(
        "spend",
        "Money spent to acquire customers: media, programs, salaries, tools (CAC, ROMI, cost per lead).",
        grain="one row per date, channel, campaign, department and category",
        columns=(
            C("date", "date", "Day of the spend.", nullable=False),
            C("channel", "string", "Channel (null for costs not tied to one, e.g. salaries).", enum=CHANNELS),
            C("campaign_id", "string", "Campaign, when the cost belongs to one."),
            C("department", "string", "Department that spent it: marketing or sales.", enum=DEPARTMENTS),
            C("category", "string", "media, programs, salaries, tools, agency, events, other."),
            C("amount", "float64", "Amount in the project currency.", nullable=False),
        ),
        foreign_keys=(FK("campaign_id", "campaigns", "campaign_id"),),
        time_column="date",
    )
)

WEB_TRAFFIC = _register(
    Table(
        "web_traffic",
        "Website sessions and visitors by day and channel (traffic, visitor→lead conversion).",
        grain="one row per date and channel",
        columns=(
            C("date", "date", "Day.", nullable=False),
            C("channel", "string", "Acquisition channel of the sessions.", enum=CHANNELS),
            C("campaign_id", "string", "Campaign, when tagged."),
            C("sessions", "int64", "Sessions.", nullable=False),
            C("visitors", "int64", "Unique visitors."),
            C("new_visitors", "int64", "First-time visitors."),
        ),
        time_column="date",
    )
)

OPPORTUNITIES = _register(
    Table(
        "opportunities",
        "Deals: current state. Stage history and field changes live in the ledger.",
        grain="one row per opportunity",
        columns=(
            C("opportunity_id", "string", "Opportunity id.", nullable=False),
            C("account_id", "string", "Account."),
            C("lead_id", "string", "Lead the opportunity came from (its source of record)."),
            C("owner_id", "string", "Opportunity owner (AE)."),
            C("created_at", "timestamp", "When the opportunity was created.", nullable=False),
            C("close_date", "date", "Expected close date (open) or actual close date (closed)."),
            C("closed_at", "timestamp", "When it was closed; null while open."),
            C("stage", "string", "Current stage.", enum=OPPORTUNITY_STAGES),
            C("is_closed", "boolean", "Closed (won or lost).", nullable=False),
            C("is_won", "boolean", "Closed won.", nullable=False),
            C("amount", "float64", "Deal amount (first-year contract value)."),
            C("deal_type", "string", "new_business, expansion or renewal.", enum=DEAL_TYPES),
            C(
                "lead_source",
                "string",
                "Channel credited on the opportunity (as the CRM says now).",
                enum=CHANNELS,
            ),
            C("segment", "string", "Segment.", enum=SEGMENTS),
            C("region", "string", "Region."),
            C("lost_reason", "string", "Why it was lost."),
        ),
        primary_key=("opportunity_id",),
        foreign_keys=(
            FK("account_id", "accounts", "account_id"),
            FK("lead_id", "leads", "lead_id"),
            FK("owner_id", "users", "user_id"),
        ),
        time_column="created_at",
    )
)

SUBSCRIPTIONS = _register(
    Table(
        "subscriptions",
        "Billing: subscription lines with monthly recurring revenue (retention, expansion, churn, LTV).",
        grain="one row per subscription line; a change of MRR ends a line and starts a new one",
        columns=(
            C("subscription_id", "string", "Subscription line id.", nullable=False),
            C("account_id", "string", "Customer account.", nullable=False),
            C("opportunity_id", "string", "Deal that created or changed it."),
            C("start_date", "date", "First day billed.", nullable=False),
            C("end_date", "date", "Day after the last day billed; null while active."),
            C("mrr", "float64", "Monthly recurring revenue of the line.", nullable=False),
            C("plan", "string", "Plan or product."),
        ),
        primary_key=("subscription_id",),
        foreign_keys=(FK("account_id", "accounts", "account_id"),),
        time_column="start_date",
    )
)

FORECASTS = _register(
    Table(
        "forecasts",
        "Forecast submissions: what each rep called for a period (commit, best case, pipeline) and when. A rep "
        "calls a period before it starts and updates the call during it; forecast accuracy compares the last call "
        "before the period with what closed (docs/forecasts.md).",
        grain="one row per submission (owner, period, grain, category, time)",
        columns=(
            C("forecast_id", "string", "Submission id.", nullable=False),
            C("owner_id", "string", "Who submitted it (a rep, or a manager calling for the team).", nullable=False),
            C("team_id", "string", "Team of the owner when submitted."),
            C("period_start", "date", "First day of the forecast period.", nullable=False),
            C(
                "period_grain",
                "string",
                "Length of the forecast period: month, quarter or year.",
                nullable=False,
                enum=PERIOD_GRAINS,
            ),
            C(
                "category",
                "string",
                "commit (what the owner commits to close, closed-won included), best_case (commit plus the "
                "upside), or pipeline (all open and won revenue due in the period).",
                nullable=False,
                enum=FORECAST_CATEGORIES,
            ),
            C("amount", "float64", "Forecast new revenue for the whole period (never negative).", nullable=False),
            C("submitted_at", "timestamp", "When the owner submitted it.", nullable=False),
            C(
                "superseded_at",
                "timestamp",
                "When the same owner's next submission for the same period, grain and category replaced it; null "
                "while it is the latest. Derived on load from the submissions (a file's value is replaced).",
            ),
            C("recorded_at", "timestamp", "When revalign learned of it (the export's time), when known."),
        ),
        primary_key=("forecast_id",),
        foreign_keys=(FK("owner_id", "users", "user_id"), FK("team_id", "teams", "team_id")),
        time_column="period_start",
    )
)

LEDGER = _register(
    Table(
        "ledger",
        "Append-only event ledger: lifecycle transitions, opportunity stage changes and field changes, each "
        "with when it happened and when revalign learned it. Revalign remembers what the CRM forgets.",
        grain="one row per event; never updated or deleted",
        columns=(
            C(
                "event_id",
                "string",
                "Deterministic id (hash of entity, kind, name, values and time).",
                nullable=False,
            ),
            C("entity_type", "string", "lead, account or opportunity.", nullable=False),
            C("entity_id", "string", "Id of the lead, account or opportunity.", nullable=False),
            C("kind", "string", "lifecycle, stage or field.", nullable=False, enum=LEDGER_KINDS),
            C(
                "name",
                "string",
                "lifecycle: the stage entered (mql, accepted, …); stage: the opportunity stage entered; "
                "field: the field that changed (lead_source, owner_id, amount, close_date, status).",
                nullable=False,
            ),
            C("old_value", "string", "Value before (as text); null for the first event."),
            C("new_value", "string", "Value after (as text)."),
            C(
                "reason",
                "string",
                "Why: rejection or loss reason, advocacy type (reference, referral, review).",
            ),
            C(
                "actor_id",
                "string",
                "User who made the change, when known: a field-history row's author, or for a change seen between "
                "two exports the row's last modifier (a name or email found among users becomes its user id; "
                "anything else is kept as written).",
            ),
            C("occurred_at", "timestamp", "When it happened in the business.", nullable=False),
            C(
                "recorded_at",
                "timestamp",
                "When revalign learned it (load time, or the export's time).",
                nullable=False,
            ),
            C("load_id", "string", "Load that recorded it (see load_log)."),
            C(
                "time_precision",
                "string",
                "How precise occurred_at is: exact (a field-history row, a created date, a simulated event) or "
                "between_exports (seen by diffing two exports: after the earlier one, at or before occurred_at); "
                "null when the source did not say.",
                enum=TIME_PRECISIONS,
            ),
        ),
        primary_key=("event_id",),
        time_column="occurred_at",
        append_only=True,
    )
)

SCORES = _register(
    Table(
        "scores",
        "Lead scores written by `revalign score apply`: each lead's score and band under one version of a scoring "
        'model, as of one moment. "MQL" under an agreed model version is `is_mql` of that version\'s rows.',
        grain="one row per lead, scoring model, version and scoring time",
        columns=(
            C("lead_id", "string", "Lead scored.", nullable=False),
            C("model", "string", "Scoring model name (scoring/*.yaml).", nullable=False),
            C("version", "int64", "Version of the scoring model.", nullable=False),
            C("score", "float64", "Points of the lead under that version, as of scored_at.", nullable=False),
            C("band", "string", "Band of the score (the highest cut point it reaches: A, B, C …).", nullable=False),
            C("is_mql", "boolean", "Whether the score reaches the version's MQL threshold.", nullable=False),
            C("scored_at", "timestamp", "The moment the score is as of (nothing known later is used).", nullable=False),
        ),
        primary_key=("lead_id", "model", "version", "scored_at"),
        foreign_keys=(FK("lead_id", "leads", "lead_id"),),
        time_column="scored_at",
    )
)

CANONICAL_TABLES: tuple[str, ...] = tuple(TABLES)


def canonical_table(name: str) -> Table:
    """The canonical table called ``name``; unknown names get close suggestions."""
    try:
        return TABLES[name]
    except KeyError:
        raise UnknownNameError("canonical table", name, TABLES) from None
