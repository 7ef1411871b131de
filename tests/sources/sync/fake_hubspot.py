"""A fake HubSpot portal on loopback: the simulated company served through HubSpot's CRM API shapes.

The records are the Fivetran HubSpot rendering of the simulator (``tests/sources/warehouse/hubspot.py``) turned
back into API objects (``property_amount`` → ``properties.amount``; a deal's ``deal_pipeline_stage_id`` →
``dealstage``), served by pytest-httpserver (plain HTTP: the Salesforce fake covers TLS and CA bundles), with:

- ``POST /oauth/v1/token`` (refresh-token flow) issuing access tokens, and a private app's token that never
  expires;
- ``GET /crm/v3/properties/<type>``, ``POST /crm/v3/objects/<type>/search`` (one ``GT`` filter on the modified
  date, sorted ascending, ``limit``/``after`` paging), ``POST …/batch/read`` with ``propertiesWithHistory``,
  ``GET /crm/v3/objects/<type>?archived=true``, ``POST /crm/v4/associations/deals/<to>/batch/read``,
  ``GET /crm/v3/owners`` and ``GET /crm/v3/pipelines/deals``, in the real API's JSON shapes;
- for the write-back: ``POST …/batch/update`` (at most 100 inputs; values stored as text so later reads see them,
  the modified date moved; a record in ``refuse`` is answered as an error of a 207 multi-status, the others
  written; every request kept in ``updates``), custom properties (:meth:`FakeHubSpot.add_property`), and batch
  reads answering unknown ids as errors of a 207, as HubSpot does;
- faults, once each: a 429 with ``Retry-After`` on the ``rate_limit_on``-th API request, an expired token (401) on
  the ``expire_on``-th, and one archived (deleted) contact that only the archived list returns.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from pytest_httpserver import HTTPServer
from tests.sources.warehouse.hubspot import STAGE
from werkzeug import Request, Response

DELETED_CONTACT = "C-DELETED-0001"
OBJECTS = {"companies": ("company", "id", "hs_lastmodifieddate"), "contacts": ("contact", "id", "lastmodifieddate"),
           "deals": ("deal", "deal_id", "hs_lastmodifieddate")}  # fmt: skip
OWN_COLUMNS = {"deal_pipeline_stage_id": "dealstage", "deal_pipeline_id": "pipeline", "owner_id": "hubspot_owner_id"}
HISTORY = {"contacts": ("contact_property_history", "contact_id"), "deals": ("deal_property_history", "deal_id")}
ASSOCIATIONS = {"companies": ("deal_company", "company_id"), "contacts": ("deal_contact", "contact_id")}


def iso(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _text(value: Any, kind: str) -> str | None:
    """A cell as HubSpot writes a property: always text (times ISO in UTC, booleans ``true``/``false``)."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if kind == "datetime":
        return iso(value)
    if kind == "bool":
        return "true" if value else "false"
    return str(value)


def _kind(kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "datetime"
    if pa.types.is_boolean(kind):
        return "bool"
    if pa.types.is_integer(kind) or pa.types.is_floating(kind):
        return "number"
    return "string"


@dataclass
class CrmObject:
    """One object type's records as API properties (``id`` → property → text) and their property types."""

    name: str
    types: dict[str, str]
    records: dict[str, dict[str, str | None]]
    cursor: str
    history: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    archived: dict[str, dict[str, Any]] = field(default_factory=dict)


def objects_from(tables: dict[str, pa.Table]) -> dict[str, CrmObject]:
    found = {}
    for name, (table_name, key, cursor) in OBJECTS.items():
        table = tables[table_name].drop_columns(["_fivetran_synced"])
        columns = {f.name: f.name.removeprefix("property_") for f in table.schema if f.name.startswith("property_")}
        columns |= {c: p for c, p in OWN_COLUMNS.items() if c in table.column_names}
        types = {columns[f.name]: _kind(f.type) for f in table.schema if f.name in columns}
        records = {
            str(row[key]): {prop: _text(row[col], types[prop]) for col, prop in columns.items()}
            for row in table.to_pylist()
        }
        found[name] = CrmObject(name, types, records, cursor)
    for name, (table_name, key) in HISTORY.items():
        history: dict[str, dict[str, list[dict[str, Any]]]] = {}
        frame = tables[table_name].to_pandas().sort_values("timestamp", ascending=False)  # newest first, as HubSpot
        for row in frame.itertuples():
            version = {"value": row.value or "", "timestamp": iso(row.timestamp), "sourceType": row.source}
            if isinstance(row.source_id, str):
                version["updatedByUserId"] = row.source_id
            history.setdefault(str(getattr(row, key)), {}).setdefault(row.name, []).append(version)
        found[name].history = history
    synced = pd.Timestamp(tables["contact"]["_fivetran_synced"][0].as_py())
    contacts = found["contacts"]
    first = next(iter(contacts.records.values()))
    contacts.archived[DELETED_CONTACT] = {**first, "email": "deleted@example.com", "lastmodifieddate": iso(synced)}
    return found


@dataclass
class FakeHubSpot:
    """The portal. ``server`` is a started pytest-httpserver; counters say what the sync asked for."""

    server: HTTPServer
    objects: dict[str, CrmObject]
    owners: list[dict[str, Any]]
    associations: dict[str, dict[str, list[str]]]
    client_id: str = "fake-client-id"
    client_secret: str = "fake-client-secret"
    refresh_token: str = "fake-refresh-token"
    private_token: str = "pat-na1-fake"
    rate_limit_on: int | None = 4
    expire_on: int | None = 7
    requests: int = 0
    tokens_issued: int = 0
    rate_limited: int = 0
    expired: int = 0
    searches: list[dict[str, Any]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    """Record id → the validation message a batch update answers for it (the record is left as it was)."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    """Every batch update request: ``object`` and its ``inputs``."""
    _valid: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/(oauth|crm)/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def update(self, object_type: str, record_id: str, values: dict[str, str], at: pd.Timestamp) -> None:
        """A user's edit at ``at``: new property values, their history, and a newer modified date."""
        obj = self.objects[object_type]
        record = obj.records[record_id]
        for name, value in values.items():
            versions = obj.history.setdefault(record_id, {}).setdefault(name, [])
            if not versions and record.get(name) is not None:  # HubSpot keeps the value a record was created with
                versions.append({"value": record[name], "timestamp": record["createdate"], "sourceType": "CRM_UI"})
            versions.insert(0, {"value": value, "timestamp": iso(at), "sourceType": "CRM_UI"})
        record |= values | {obj.cursor: iso(at)}

    def add_property(self, object_type: str, name: str, kind: str) -> None:
        """A custom property created by the portal's admin: every record holds no value for it yet."""
        self.objects[object_type].types[name] = kind
        for record in self.objects[object_type].records.values():
            record.setdefault(name, None)

    def archive(self, object_type: str, record_id: str, at: pd.Timestamp) -> None:
        """A user's deletion at ``at``: the record leaves search and batch reads for the archived list."""
        obj = self.objects[object_type]
        obj.archived[record_id] = obj.records.pop(record_id) | {obj.cursor: iso(at)}

    # -- the API ---------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path == "/oauth/v1/token":
            return self._token(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._valid and token != self.private_token:
            return _error(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.")
        self.requests += 1
        if self.requests == self.rate_limit_on:
            self.rate_limited += 1
            response = _error(429, "RATE_LIMITS", "You have reached your secondly limit.")
            response.headers["Retry-After"] = "1"
            return response
        if self.requests == self.expire_on:
            self.expired += 1
            self._valid.discard(token)
            return _error(401, "EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired.")
        return self._route(request)

    def _route(self, request: Request) -> Response:
        path, body = request.path, request.get_json(silent=True) or {}
        if match := re.fullmatch(r"/crm/v3/properties/(\w+)", path):
            types = self.objects[match[1]].types
            return _json({"results": [{"name": n, "type": k, "fieldType": "text"} for n, k in types.items()]})
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)/search", path):
            return self._search(self.objects[match[1]], body)
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)/batch/read", path):
            return self._batch_read(self.objects[match[1]], body)
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)/batch/update", path):
            return self._batch_update(self.objects[match[1]], body)
        if match := re.fullmatch(r"/crm/v3/objects/(\w+)", path):
            obj = self.objects[match[1]]
            listed = obj.archived.items() if request.args.get("archived") == "true" else obj.records.items()
            rows = [self._record(obj, i, p, archived=i in obj.archived) for i, p in listed]
            return _paged(rows, request.args.get("after"), int(request.args.get("limit", 10)))
        if match := re.fullmatch(r"/crm/v4/associations/deals/(\w+)/batch/read", path):
            links = self.associations[match[1]]
            results = [{"from": {"id": i["id"]}, "to": [{"toObjectId": to, "associationTypes": [
                {"category": "HUBSPOT_DEFINED", "typeId": 5, "label": None}]} for to in links.get(i["id"], [])]}
                for i in body["inputs"] if links.get(i["id"])]  # fmt: skip
            return _json({"status": "COMPLETE", "results": results})
        if path == "/crm/v3/owners":
            archived = request.args.get("archived") == "true"
            rows = [o for o in self.owners if o["archived"] == archived]
            return _paged(rows, request.args.get("after"), int(request.args.get("limit", 100)))
        if path == "/crm/v3/pipelines/deals":
            return _json({"results": [_pipeline()]})
        return _error(404, "OBJECT_NOT_FOUND", f"resource not found: {path}")

    def _token(self, request: Request) -> Response:
        form = request.form
        if (form.get("client_id"), form.get("client_secret"), form.get("refresh_token")) != (
            self.client_id, self.client_secret, self.refresh_token,
        ) or form.get("grant_type") != "refresh_token":  # fmt: skip
            return _error(400, "BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        self.tokens_issued += 1
        token = f"fake-access-{self.tokens_issued}"
        self._valid.add(token)
        return _json({"access_token": token, "refresh_token": self.refresh_token, "expires_in": 1800,
                      "token_type": "bearer"})  # fmt: skip

    def _search(self, obj: CrmObject, body: dict[str, Any]) -> Response:
        self.searches.append({"object": obj.name, **body})
        (sort,) = body["sorts"]
        records = list(obj.records.items())
        for group in body.get("filterGroups", []):
            for f in group["filters"]:
                cursor, name = pd.Timestamp(int(f["value"]), unit="ms"), f["propertyName"]
                newer = {"GT": cursor.__lt__, "GTE": cursor.__le__}[f["operator"]]
                records = [(i, p) for i, p in records if newer(pd.Timestamp(p[name]).tz_convert(None))]
        records.sort(key=lambda item: (item[1][sort["propertyName"]], item[0]))
        rows = [{"id": i, "properties": {n: p.get(n) for n in body["properties"]} | {"hs_object_id": i},
                 "createdAt": p.get("createdate"), "updatedAt": p[obj.cursor], "archived": False}
                for i, p in records]  # fmt: skip
        return _paged(rows, body.get("after"), int(body["limit"]), total=True)

    def _batch_read(self, obj: CrmObject, body: dict[str, Any]) -> Response:
        results, unknown = [], []
        for item in body["inputs"]:
            if item["id"] not in obj.records:
                unknown.append(item["id"])
                continue
            record = self._record(obj, item["id"], obj.records[item["id"]], names=body["properties"])
            history = obj.history.get(item["id"], {})
            record["propertiesWithHistory"] = {n: history.get(n, []) for n in body.get("propertiesWithHistory", [])}
            results.append(record)
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": iso(pd.Timestamp.now()),
                                  "completedAt": iso(pd.Timestamp.now())}  # fmt: skip
        if not unknown:
            return _json(answer)
        message = f"Could not get some {obj.name} objects, they may be deleted or not exist."
        answer["errors"] = [{"status": "error", "category": "OBJECT_NOT_FOUND", "context": {"ids": unknown},
                             "message": message}]  # fmt: skip
        return _json(answer | {"numErrors": 1}, 207)

    def _batch_update(self, obj: CrmObject, body: dict[str, Any]) -> Response:
        inputs = body.get("inputs", [])
        if len(inputs) > 100:
            return _error(400, "VALIDATION_ERROR", f"Batch input cannot exceed 100 inputs, but {len(inputs)} given")
        self.updates.append({"object": obj.name, "inputs": inputs})
        results, errors, now = [], [], pd.Timestamp.now()
        for item in inputs:
            record_id = str(item["id"])
            if record_id in self.refuse or record_id not in obj.records:
                message = self.refuse.get(record_id, f"Object {record_id} not found")
                errors.append({"status": "error", "category": "VALIDATION_ERROR", "message": message,
                               "context": {"ids": [record_id]}})  # fmt: skip
                continue
            values = {n: _text(v, obj.types.get(n, "string")) for n, v in item["properties"].items()}
            self.update(obj.name, record_id, values, now)
            results.append(self._record(obj, record_id, obj.records[record_id], names=list(values)))
        answer: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": iso(now),
                                  "completedAt": iso(now)}  # fmt: skip
        if errors:
            return _json(answer | {"errors": errors, "numErrors": len(errors)}, 207)
        return _json(answer)

    def _record(self, obj: CrmObject, record_id: str, properties: dict[str, Any], *, names: list[str] | None = None,
                archived: bool = False) -> dict[str, Any]:  # fmt: skip
        chosen = {n: properties.get(n) for n in (names if names is not None else properties)}
        record = {"id": record_id, "properties": chosen, "createdAt": properties.get("createdate"),
                  "updatedAt": properties.get(obj.cursor), "archived": archived}  # fmt: skip
        if archived:
            record["archivedAt"] = properties.get(obj.cursor)
        return record


def _pipeline() -> dict[str, Any]:
    stamp = "2023-01-01T00:00:00.000Z"
    stages = [{"id": stage, "label": label.replace("_", " ").title(), "displayOrder": n, "archived": False,
               "metadata": {"isClosed": "true" if stage.startswith("closed") else "false",
                            "probability": "1.0" if stage == "closedwon" else "0.2"},
               "createdAt": stamp, "updatedAt": stamp} for n, (label, stage) in enumerate(STAGE.items())]  # fmt: skip
    return {"id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": False, "stages": stages,
            "createdAt": stamp, "updatedAt": stamp}  # fmt: skip


def _paged(rows: list[dict[str, Any]], after: str | None, limit: int, total: bool = False) -> Response:
    offset = int(after or 0)
    body: dict[str, Any] = {"results": rows[offset : offset + limit]}
    if total:
        body["total"] = len(rows)
    if offset + limit < len(rows):
        body["paging"] = {"next": {"after": str(offset + limit), "link": f"?after={offset + limit}"}}
    return _json(body)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _error(status: int, category: str, message: str) -> Response:
    return _json({"status": "error", "message": message, "correlationId": "00000000-fake", "category": category},
                 status)  # fmt: skip


def start(tables: dict[str, pa.Table], **faults: Any) -> FakeHubSpot:
    """A running fake portal serving ``tables`` (stop it with ``fake.server.stop()``)."""
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    owners = [{"id": o["owner_id"], "email": o["email"], "firstName": o["first_name"], "lastName": o["last_name"],
               "userId": None, "createdAt": iso(o["created_at"]), "updatedAt": iso(o["updated_at"]), "archived": False}
              for o in tables["owner"].to_pylist()]  # fmt: skip
    associations: dict[str, dict[str, list[str]]] = {}
    for to, (table, column) in ASSOCIATIONS.items():
        for row in tables[table].to_pylist():
            associations.setdefault(to, {}).setdefault(str(row["deal_id"]), []).append(str(row[column]))
    return FakeHubSpot(server, objects_from(tables), owners, associations, **faults)


ENVIRONMENT = ("REVALIGN_TEST_HS_CLIENT_ID", "REVALIGN_TEST_HS_SECRET", "REVALIGN_TEST_HS_REFRESH")


def write_project(fake: FakeHubSpot, folder: Path, **settings: Any) -> Path:
    """A project folder whose revalign.yaml syncs from ``fake`` with OAuth, every secret a ${ENV} reference (the
    variables :data:`ENVIRONMENT` must hold ``fake``'s credentials: :func:`environment`)."""
    folder.mkdir(parents=True, exist_ok=True)
    client_id, secret, refresh = ENVIRONMENT
    extra = "".join(f"    {key}: {value}\n" for key, value in settings.items())
    (folder / "revalign.yaml").write_text(
        "engine: duckdb:///revalign.duckdb\n"
        "sync:\n"
        "  hubspot:\n"
        f"    base_url: {fake.url}\n"
        f"    client_id: ${{{client_id}}}\n"
        f"    client_secret: ${{{secret}}}\n"
        f"    refresh_token: ${{{refresh}}}\n"
        "    backoff: 0.1\n" + extra,
        encoding="utf-8",
    )
    return folder


def environment(fake: FakeHubSpot) -> dict[str, str]:
    return dict(zip(ENVIRONMENT, (fake.client_id, fake.client_secret, fake.refresh_token), strict=True))
