"""① The mapping: a YAML file that says how a folder of exports becomes canonical tables.

A mapping is data, not code, so a RevOps analyst maps their own CRM export without writing Python. It is
validated as a whole by pydantic when it is loaded, and every problem is reported with the mapping file and the
line of the offending key (MetricFlow's ``FileContext`` idea), because "field required" without a line number
sends the user hunting. ``docs/mappings.md`` documents every key; the shipped mappings live in
``sources/mappings/*.yaml`` and are found by name (``olist``, ``x_education``, ``generic_crm``, ``canonical``,
``fivetran_salesforce``, ``fivetran_hubspot``, ``airbyte_hubspot``).

Shape::

    name: olist
    timezone: UTC                  # how naive timestamps in the files are read (per column: timezone:)
    null_values: [""]              # labels that mean "no value" in every column
    values:                        # named value maps: source label → canonical code
      olist_origin: {map: {organic_search: organic_search, social: paid_social}, blank: unknown}
    targets:                       # one entry per (file pattern, canonical table)
      - name: mqls
        files: [olist_marketing_qualified_leads_dataset.csv]
        table: leads
        columns:
          lead_id: mql_id                                   # shorthand for {from: mql_id}
          created_at: {from: first_contact_date, format: "%Y-%m-%d", timezone: America/Sao_Paulo}
          lead_source: {from: origin, values: olist_origin}
          is_converted: {default: false}                    # only where nothing better is known
        events:
          - {kind: lifecycle, name: mql, entity: lead, id: lead_id, at: created_at}
"""

from __future__ import annotations

from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from revalign.definitions.issues import Issue, Level
from revalign.definitions.yamlfile import line_of, read_yaml
from revalign.errors import ConfigError, FileContext, UnknownNameError
from revalign.model.tables import CANONICAL_TABLES, canonical_table

EXPORT_TIME = "$export_time"
"""A ``value:`` that means "the time of the export" (the file's modification time, UTC): for sources without dates."""


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class ValueMap(_Spec):
    """Source labels → canonical codes. ``blank`` is what an empty cell becomes; ``other`` an unmapped label.

    Without ``other``, an unmapped label is kept as written, and the ``enum`` rule quarantines it when the target
    column is categorical: a new CRM picklist value is surfaced, not silently filed under "other".
    """

    map: dict[str, Any] = Field(default_factory=dict)
    blank: str | None = None
    other: str | None = None
    ignore_case: bool = False

    @field_validator("map", mode="before")
    @classmethod
    def _string_keys(cls, value: Any) -> Any:
        # YAML reads 1, yes, 2017 as numbers or booleans; labels in a file are always text.
        if isinstance(value, dict):
            return {_label(k): v for k, v in value.items()}
        return value


def _label(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class ColumnSpec(_Spec):
    """How one canonical column is filled: from a source column, a constant, a default or a lookup."""

    from_: str | None = Field(None, alias="from", description="Source column (header as written in the file).")
    value: Any = Field(None, description=f"A constant, always set ({EXPORT_TIME!r} = the export time).")
    default: Any = Field(None, description="A constant used only where the table has no value yet.")
    lookup: str | None = Field(None, description="table.column of an already loaded canonical table …")
    via: str | None = Field(None, description="… joined on this canonical column of the target (a key).")
    format: str | None = Field(None, description="strptime format of dates/timestamps; ISO 8601 when absent.")
    timezone: str | None = Field(None, description="Time zone of naive timestamps (default: the mapping's).")
    values: str | ValueMap | None = Field(None, description="A named value map, or one written inline.")
    null_values: list[str] = Field(default_factory=list, description="Extra labels meaning 'no value' here.")
    money: bool = Field(False, description="Convert with the mapping's fx_rate into the project currency.")
    optional: bool = Field(False, description="The source column may be absent from the file (then: unmapped).")
    when: str | None = Field(
        None, description="A yes/no source column: the value is taken only where it is true (else left blank)."
    )
    item: int | None = Field(
        None,
        ge=0,
        description="The cell is a JSON array (Airbyte writes a record's associations as one): take this element "
        "(0: the first; an empty or shorter array: blank).",
    )

    @model_validator(mode="after")
    def _one_source(self) -> ColumnSpec:
        sources = {"from_": self.from_, "value": self.value, "default": self.default, "lookup": self.lookup}
        given = [k for k, v in sources.items() if v is not None]
        if len(given) != 1:
            names = [("from" if k == "from_" else k) for k in given]
            raise ValueError(
                f"a column needs exactly one of from, value, default or lookup. Got {names or 'none'} instead."
            )
        if (self.lookup is None) != (self.via is None):
            raise ValueError("lookup and via go together: lookup: leads.created_at, via: lead_id")
        if self.lookup is not None and "." not in self.lookup:
            raise ValueError(f"lookup must be 'table.column'. Got {self.lookup!r} instead.")
        return self


class RuleSpec(_Spec):
    """An extra named rule on a target (the automatic ones need no declaration; see ``sources.rules``)."""

    rule: Literal["not_null", "unique", "order_of_dates", "non_negative"]
    columns: list[str] = Field(min_length=1, description="Canonical columns; order_of_dates: earlier first.")


class EventSpec(_Spec):
    """A ledger event written for every loaded row of a target (deterministic id: reloading adds nothing)."""

    kind: Literal["lifecycle", "stage"]
    name: str
    entity: Literal["lead", "account", "opportunity"]
    id: str = Field(description="Canonical column holding the entity id.")
    at: str = Field(description="Canonical column holding when it happened.")
    old_value: str | None = None
    when: str | None = Field(None, description="A boolean canonical column: only rows where it is true.")


class ReasonSpec(_Spec):
    """Where a row says why it left the funnel (disqualified, rejected, recycled, lost): the first non-blank of
    ``from`` columns (each optional in the file), through ``values``. A change seen between two exports into such a
    stage carries it as the ledger's ``reason``."""

    from_: list[str] = Field(alias="from", min_length=1, description="Source columns, first non-blank wins.")
    values: str | ValueMap | None = Field(None, description="A named value map, or one written inline.")

    @field_validator("from_", mode="before")
    @classmethod
    def _one_column(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


EntityType = Literal["lead", "account", "opportunity"]
_OBJECTS: dict[str, EntityType] = {"lead": "lead", "opportunity": "opportunity", "account": "account"}


class HistoryField(_Spec):
    """A CRM field (as the history file names it) → the canonical column it is, and how its values read."""

    name: str = Field(description="Canonical column of the record's table: lead_source, owner_id, stage, …")
    values: str | ValueMap | None = Field(None, description="A named value map for old and new values.")
    format: str | None = Field(
        None, description="How date values are written: a strptime format, epoch_ms or epoch_s (default ISO 8601)."
    )


class HistorySpec(_Spec):
    """A CRM field-history file (Salesforce LeadHistory/OpportunityFieldHistory, HubSpot property history): one
    row per change of one field of one record, with who changed it and when. Each row becomes one ledger row with
    ``time_precision`` exact (``sources.load.history``)."""

    object: str | None = Field(None, description="Source column naming the record's object (Lead, Opportunity, …).")
    entity: EntityType | None = Field(
        None, description="Or the one entity type of every row (Salesforce's LeadHistory holds only leads)."
    )
    objects: dict[str, EntityType] = Field(
        default_factory=lambda: dict(_OBJECTS),
        description="Object labels (any case) → ledger entity type; another label is quarantined (rule enum).",
    )
    id: str = Field(description="Source column with the record's id.")
    field: str = Field(description="Source column naming the field that changed.")
    old_value: str | None = Field(None, description="Source column with the value before (optional in the file).")
    new_value: str = Field(description="Source column with the value after.")
    changed_by: str | None = Field(None, description="Source column with who changed it (optional in the file).")
    changed_at: str = Field(description="Source column with when it changed.")
    changed_at_format: str | None = Field(
        None, description="How changed_at is written: a strptime format, epoch_ms or epoch_s (default ISO 8601)."
    )
    reason: str | None = Field(None, description="Source column with why (optional in the file).")
    reason_values: str | ValueMap | None = Field(None, description="A value map for the reason.")
    fields: dict[str, HistoryField] = Field(
        default_factory=dict,
        description="Field labels (any case) → canonical columns; other fields are kept under their own name.",
    )

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).strip().lower(): ({"name": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("objects", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return {str(k).strip().lower(): v for k, v in value.items()} if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _one_object(self) -> HistorySpec:
        if (self.object is None) == (self.entity is None):
            raise ValueError("a history names its records' object: give exactly one of object (a column) and entity.")
        return self

    @property
    def value_maps(self) -> list[str | ValueMap | None]:
        """Every value map the history names (for the mapping's reference check)."""
        return [self.reason_values, *(f.values for f in self.fields.values())]


class TargetSpec(_Spec):
    """One kind of file (glob patterns) into one canonical table."""

    name: str
    files: list[str] = Field(default_factory=list, description="Glob patterns, relative to the ingested folder.")
    tables: list[str] = Field(
        default_factory=list,
        description="Or warehouse tables (``table`` in the mapping's schema, or ``schema.table``): sources.warehouse.",
    )
    table: str
    mode: Literal["upsert", "update", "append"] = Field(
        "upsert",
        description="upsert: insert new keys, overwrite mapped columns of known ones; update: only patch rows "
        "that exist (loaded before, or by an upsert target of this mapping); append: add rows (no key).",
    )
    format: Literal["csv", "parquet"] | None = None
    delimiter: str = ","
    encoding: str = "utf-8"
    multiline: bool = Field(
        False,
        description="Quoted values may span lines (notes with line breaks). Without it every record is one line, "
        "so a line whose quotes do not pair up is quarantined alone (rule quoting) instead of swallowing the next.",
    )
    optional: bool = Field(False, description="A folder without a matching file is fine.")
    identity: bool = Field(False, description="Every canonical column from the source column of the same name.")
    dedupe: bool = Field(False, description="Repeated keys in one file are the same entity: keep the first.")
    modified_at: str | None = Field(
        None, description="Source column with the row's last-modified time (optional in the file: else export time)."
    )
    modified_by: str | None = Field(
        None,
        description="Source column naming who last modified the row (optional in the file): the actor of the changes "
        "a newer export shows.",
    )
    reason: ReasonSpec | None = Field(
        None, description="Where the row says why it was disqualified, rejected, recycled or lost."
    )
    history: HistorySpec | None = Field(
        None, description="The file is a CRM field history (table: ledger, mode: append, no columns)."
    )
    history_mode: bool = Field(
        True,
        description="A warehouse table in Fivetran history mode (it has _fivetran_active) is read as its active "
        "rows; unless false, changes of tracked fields between versions also become exact ledger events.",
    )
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    rules: list[RuleSpec] = Field(default_factory=list)
    allow_negative: list[str] = Field(
        default_factory=list,
        description="Amount/count columns that may be below zero here (credits, refunds); others are checked.",
    )
    events: list[EventSpec] = Field(default_factory=list)

    @field_validator("columns", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: ({"from": v} if isinstance(v, str) else v) for k, v in value.items()}
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str) -> str:
        if len(value) != 1 or value in '"\r\n':
            raise ValueError(
                f"delimiter must be one character other than a quote or line break. Got {value!r} instead."
            )
        return value

    @field_validator("files", "tables", mode="before")
    @classmethod
    def _one_file(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _against_model(self) -> TargetSpec:
        if bool(self.files) == bool(self.tables):
            raise ValueError("a target reads files or tables: give exactly one of files and tables.")
        if self.table not in CANONICAL_TABLES:
            raise ValueError(f"table must be one of {', '.join(CANONICAL_TABLES)}. Got {self.table!r} instead.")
        if self.history is not None:
            if self.table != "ledger" or self.mode != "append" or self.columns or self.events:
                raise ValueError(
                    "a history target writes the ledger: table: ledger, mode: append, no columns or events."
                )
            return self
        spec = canonical_table(self.table)
        unknown = [c for c in self.columns if c not in spec.column_names]
        if unknown:
            raise ValueError(
                f"{', '.join(unknown)} not a column of {self.table}; columns are {', '.join(spec.column_names)}."
            )
        if self.identity:
            for col in spec.columns:
                self.columns.setdefault(col.name, ColumnSpec(**{"from": col.name, "optional": col.nullable}))
        if self.mode != "append" and not spec.primary_key:
            raise ValueError(f"{self.table} has no primary key: use mode: append.")
        if self.mode != "update":
            required = [c.name for c in spec.columns if not c.nullable and c.name not in self.columns]
            if required:
                raise ValueError(
                    f"{self.table} needs a value for {', '.join(required)}: map it (from, value or default)."
                )
        if self.mode != "append":
            missing = [k for k in spec.primary_key if k not in self.columns]
            if missing:
                raise ValueError(f"the key column(s) {', '.join(missing)} of {self.table} must be mapped.")
        if self.mode == "update":
            defaults = [c for c, s in self.columns.items() if s.default is not None]
            if defaults:
                raise ValueError(f"mode: update patches rows; default: makes no sense there ({', '.join(defaults)}).")
        self._check_named_columns()
        return self

    def _check_named_columns(self) -> None:
        """Rules, events and ``allow_negative`` may only name columns the target maps."""
        known = set(self.columns)
        bad = [c for c in self.allow_negative if c not in known]
        if bad:
            raise ValueError(f"allow_negative names unmapped column(s) {', '.join(bad)}.")
        for rule in self.rules:
            bad = [c for c in rule.columns if c not in known]
            if bad:
                raise ValueError(f"rule {rule.rule} names unmapped column(s) {', '.join(bad)}.")
        for event in self.events:
            bad = [c for c in (event.id, event.at, event.when) if c is not None and c not in known]
            if bad:
                raise ValueError(f"event {event.name} names unmapped column(s) {', '.join(bad)}.")

    @property
    def source_columns(self) -> list[str]:
        """Source columns the file must have."""
        cols = [s.from_ for s in self.columns.values() if s.from_ is not None and not s.optional]
        cols += [s.when for s in self.columns.values() if s.when is not None and not s.optional]
        return list(dict.fromkeys(cols))  # modified_at is optional: without it, changes date from the export


class DateWindow(_Spec):
    """The dates a mapping accepts: a date outside is quarantined (rule ``date_range``), not loaded.

    ``latest`` defaults to ``years_ahead`` years after the load, so a "never" date (9999-12-31) or a typo
    (2204) is caught while a deal expected to close next year loads.
    """

    earliest: date = Field(date(1970, 1, 1), description="First accepted date.")
    latest: date | None = Field(None, description="Last accepted date (default: years_ahead after the load).")
    years_ahead: int = Field(10, ge=0, le=1000, description="Without latest: how far after the load is accepted.")

    @model_validator(mode="after")
    def _ordered(self) -> DateWindow:
        if self.latest is not None and self.latest < self.earliest:
            raise ValueError(f"latest ({self.latest}) is before earliest ({self.earliest}).")
        return self

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """The first and last accepted instants for a load at ``now`` (the last day is accepted whole)."""
        if self.latest is not None:
            last = self.latest
        else:
            year = min(now.year + self.years_ahead, 9998)
            last = now.date().replace(year=year, day=28 if (now.month, now.day) == (2, 29) else now.day)
        return datetime.combine(self.earliest, datetime.min.time()), datetime.combine(last, datetime.max.time())


class Mapping(_Spec):
    """A whole mapping file, validated as one object."""

    name: str
    description: str = ""
    timezone: str = "UTC"
    currency: str | None = Field(None, description="Currency of money columns in the files (e.g. BRL).")
    fx_rate: float | None = Field(None, gt=0, description="Project-currency units per one unit of `currency`.")
    null_values: list[str] = Field(default_factory=lambda: [""])
    schema_: str | None = Field(
        None, alias="schema", description="Warehouse schema of the targets' tables (Fivetran's connector schema)."
    )
    date_window: DateWindow = Field(default_factory=DateWindow, description="Dates outside are quarantined.")
    values: dict[str, ValueMap] = Field(default_factory=dict)
    targets: list[TargetSpec] = Field(min_length=1)
    source: FileContext = Field(default_factory=FileContext, exclude=True)

    @model_validator(mode="after")
    def _references(self) -> Mapping:
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique; repeated: {', '.join(dupes)}.")
        for t in self.targets:
            self._maps_exist(t)
            for col, spec in t.columns.items():
                if isinstance(spec.values, str) and spec.values not in self.values:
                    raise ValueError(
                        f"target {t.name}, column {col}: no value map {spec.values!r}; defined maps are "
                        f"{', '.join(self.values) or 'none'}."
                    )
                if spec.lookup is not None:
                    table, column = spec.lookup.split(".", 1)
                    if table not in CANONICAL_TABLES or column not in canonical_table(table).column_names:
                        raise ValueError(f"target {t.name}, column {col}: lookup {spec.lookup!r} is not table.column.")
                    if spec.via not in t.columns:
                        raise ValueError(f"target {t.name}, column {col}: via {spec.via!r} is not mapped.")
        return self

    def _maps_exist(self, t: TargetSpec) -> None:
        """The value maps a target's reason and history name are defined."""
        named = [t.reason.values if t.reason else None, *(t.history.value_maps if t.history else [])]
        for name in named:
            if isinstance(name, str) and name not in self.values:
                raise ValueError(
                    f"target {t.name}: no value map {name!r}; defined maps are {', '.join(self.values) or 'none'}."
                )

    def value_map(self, spec: ColumnSpec | ReasonSpec | HistoryField) -> ValueMap | None:
        return self.named_map(spec.values)

    def named_map(self, values: str | ValueMap | None) -> ValueMap | None:
        """A value map given by name or inline (None: values are kept as written)."""
        if values is None or isinstance(values, ValueMap):
            return values
        return self.values[values]


# -- loading ------------------------------------------------------------------------------------------------
def shipped_mappings() -> list[str]:
    """Names of the mappings that ship with revalign."""
    folder = resources.files("revalign.sources") / "mappings"
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


def mapping_path(name_or_path: str | Path) -> Path:
    """A shipped mapping's file for a name, or the given YAML path."""
    text = str(name_or_path)
    if text.endswith((".yaml", ".yml")) or "/" in text or Path(text).is_file():
        path = Path(text)
        if not path.is_file():
            raise ConfigError(
                f"Mapping file {path} does not exist. Give a shipped name "
                f"({', '.join(shipped_mappings())}) or a YAML path."
            )
        return path
    if text not in shipped_mappings():
        raise UnknownNameError("mapping", text, shipped_mappings())
    return Path(str(resources.files("revalign.sources") / "mappings" / f"{text}.yaml"))


def load_mapping(name_or_path: str | Path) -> Mapping:
    """Read and validate a mapping; every problem is reported with file and line."""
    path = mapping_path(name_or_path)
    try:
        data = read_yaml(path)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        raise ConfigError(f"{path}: the mapping is empty; it needs at least name and targets.")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        problems = [str(_issue(path, data, err["loc"], err["msg"])) for err in exc.errors()]
        raise ConfigError(f"Mapping {path} is invalid:\n  " + "\n  ".join(problems)) from exc
    return mapping.model_copy(update={"source": FileContext(str(path))})


def _issue(path: Path, data: Any, loc: tuple[Any, ...], msg: str) -> Issue:
    """A pydantic error as an issue at the line of its location (``from_`` is written ``from`` in the file)."""
    dotted = ".".join(str(p) for p in loc if p != "from_") or "(top level)"
    loc = tuple("from" if p == "from_" else p for p in loc)
    name = data.get("name") if isinstance(data, dict) else None
    return Issue(
        Level.ERROR,
        msg.removeprefix("Value error, "),
        file=str(path),
        line=line_of(data, loc),
        subject=str(name) if name is not None else None,
        rule="schema",
        kind="mapping",
        path=dotted,
    )
