"""A fake Salesforce org on loopback: the simulated company served through Salesforce's REST API shapes.

The records are the Fivetran rendering of the simulator (``tests/sources/warehouse/salesforce.py``) turned back
into Salesforce's API names (``number_of_employees`` → ``NumberOfEmployees``), served over HTTPS (a throwaway CA,
since Salesforce is only ever reached over TLS) by pytest-httpserver, with:

- the OAuth token endpoint (client-credentials and username-password flows), ``instance_url`` pointing back here;
- ``sobjects/<Object>/describe`` (field names and types, including a compound address field a query cannot
  select) and ``queryAll`` with SOQL ``SELECT … FROM … [WHERE <field> > <datetime>] ORDER BY <field>, Id``,
  answered ``{"totalSize", "done", "nextRecordsUrl", "records": [{"attributes": …, …}]}`` ``page_size`` records
  at a time;
- for the write-back: custom fields an admin adds (:meth:`FakeSalesforce.add_field`) and the composite
  collections update (``PATCH composite/sobjects``, ``allOrNone`` false), which stores the values (and a newer
  ``SystemModstamp``) so later reads see them, and refuses the records in ``refuse`` as a validation rule would;
- faults, once each: a 429 with ``Retry-After`` on the ``rate_limit_on``-th query page, an expired session (401
  ``INVALID_SESSION_ID``) on the ``expire_on``-th, and one deleted lead (``IsDeleted``) that only ``queryAll``
  returns.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

OBJECT_TABLES = {
    "User": "user",
    "Account": "account",
    "Campaign": "campaign",
    "CampaignMember": "campaign_member",
    "Lead": "lead",
    "Opportunity": "opportunity",
    "LeadHistory": "lead_history",
    "OpportunityFieldHistory": "opportunity_field_history",
}
HISTORY = ("LeadHistory", "OpportunityFieldHistory")
CURRENCY = ("amount", "budgeted_cost")
DELETED_LEAD = "00QDELETED000001"
SOQL = re.compile(
    r"^SELECT (?P<fields>.+?) FROM (?P<sobject>\w+)(?: WHERE (?P<field>\w+) > (?P<cursor>\S+))? "
    r"ORDER BY (?P<order>\w+)(?:, Id)?$"
)


def api_name(column: str) -> str:
    """Fivetran's column name back to Salesforce's API name (``segment__c`` → ``Segment__c``)."""
    custom = column.endswith("__c")
    base = column.removesuffix("__c")
    name = "".join(part.capitalize() for part in base.split("_"))
    return name + "__c" if custom else name


def _field_type(name: str, kind: pa.DataType) -> str:
    if pa.types.is_timestamp(kind):
        return "datetime"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_integer(kind):
        return "int"
    if pa.types.is_floating(kind):
        return "currency" if name in CURRENCY else "double"
    if name == "id":
        return "id"
    return "reference" if name.endswith("_id") else "string"


def _json_value(value: Any) -> Any:
    """A cell as the REST API writes it: datetimes ``2025-01-05T10:00:00.000+0000``, dates ``2025-01-05``."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, pd.Timestamp | dt.datetime):
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "+0000"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class SObject:
    """One object's records (API names), the field types, and the column its queries filter on."""

    name: str
    frame: pd.DataFrame
    types: dict[str, str]

    @property
    def cursor_field(self) -> str:
        return "CreatedDate" if self.name in HISTORY else "SystemModstamp"


def objects_from(tables: dict[str, pa.Table]) -> dict[str, SObject]:
    """The Fivetran tables as Salesforce objects, with ``SystemModstamp`` and one deleted lead added."""
    found: dict[str, SObject] = {}
    for sobject, table_name in OBJECT_TABLES.items():
        table = tables[table_name].drop_columns(["_fivetran_synced"])
        synced = pd.Timestamp(tables[table_name]["_fivetran_synced"][0].as_py())
        types = {api_name(f.name): _field_type(f.name, f.type) for f in table.schema}
        frame = table.to_pandas().rename(columns=api_name).astype(object)
        if sobject not in HISTORY:
            stamp = frame.get("LastModifiedDate", frame.get("CreatedDate"))
            frame["SystemModstamp"] = stamp if stamp is not None else synced
            types["SystemModstamp"] = "datetime"
        if sobject == "Lead":
            gone = {**frame.iloc[0].to_dict(), "Id": DELETED_LEAD, "Email": "deleted@example.com", "IsDeleted": True}
            frame = pd.concat([frame, pd.DataFrame([gone | {"SystemModstamp": synced}])], ignore_index=True)
        if sobject == "Account":
            types["BillingAddress"] = "address"  # compound: describe lists it, a query cannot select it
        found[sobject] = SObject(sobject, frame, types)
    return found


@dataclass
class FakeSalesforce:
    """The org. ``server`` is a started pytest-httpserver with TLS; counters say what the sync asked for."""

    server: HTTPServer
    objects: dict[str, SObject]
    page_size: int = 200
    client_id: str = "fake-consumer-key"
    client_secret: str = "fake-consumer-secret"
    version: str = "62.0"
    rate_limit_on: int | None = 3
    expire_on: int | None = 5
    pages_served: int = 0
    tokens_issued: int = 0
    rate_limited: int = 0
    expired: int = 0
    queries: list[str] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    """Record id → the message of a validation rule that refuses its update."""
    updates: list[dict[str, Any]] = field(default_factory=list)
    """The body of every composite update request received."""
    _results: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _valid: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.server.expect_request(re.compile(r"^/services/.*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.port}"

    def update(self, sobject: str, record_id: str, values: dict[str, Any], at: pd.Timestamp) -> None:
        """Change a record in the org (a user's edit at ``at``): new values and a newer ``SystemModstamp``."""
        frame = self.objects[sobject].frame
        row = frame.index[frame["Id"] == record_id]
        for name, value in {**values, "SystemModstamp": at}.items():
            frame.loc[row, name] = value

    def add_field(self, sobject: str, name: str, kind: str) -> None:
        """An admin creates a custom field: describe lists it, every record holds null in it."""
        self.objects[sobject].types[name] = kind
        self.objects[sobject].frame[name] = None

    # -- the API ---------------------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/services/oauth2/token":
            return self._token(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self._valid:
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        base = f"/services/data/v{self.version}/"
        if path.startswith(base + "sobjects/") and path.endswith("/describe"):
            return self._describe(path.removeprefix(base + "sobjects/").removesuffix("/describe"))
        if path == base + "composite/sobjects" and request.method == "PATCH":
            return self._update(request.get_json())
        if path.startswith(base + "queryAll/"):
            return self._page(request, token, path.removeprefix(base + "queryAll/"))
        return _errors(404, "NOT_FOUND", f"The requested resource does not exist: {path}")

    def _token(self, request: Request) -> Response:
        form = request.form
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return Response(json.dumps({"error": "invalid_client", "error_description": "invalid client credentials"}),
                            status=400, content_type="application/json")  # fmt: skip
        if form.get("grant_type") not in ("client_credentials", "password"):
            return Response(
                json.dumps({"error": "unsupported_grant_type"}), status=400, content_type="application/json"
            )
        self.tokens_issued += 1
        token = f"00Dfake!token{self.tokens_issued}"
        self._valid.add(token)
        body = {"access_token": token, "instance_url": self.url, "token_type": "Bearer", "id": f"{self.url}/id/1"}
        return Response(json.dumps(body), content_type="application/json")

    def _describe(self, sobject: str) -> Response:
        if sobject not in self.objects:
            return _errors(404, "NOT_FOUND", f"The requested resource does not exist: {sobject}")
        fields = [{"name": name, "type": kind} for name, kind in self.objects[sobject].types.items()]
        return _json({"name": sobject, "fields": fields})

    def _page(self, request: Request, token: str, rest: str) -> Response:
        self.pages_served += 1
        if self.pages_served == self.rate_limit_on:
            self.rate_limited += 1
            response = _errors(429, "REQUEST_LIMIT_EXCEEDED", "Too many requests")
            response.headers["Retry-After"] = "1"
            return response
        if self.pages_served == self.expire_on:
            self.expired += 1
            self._valid.discard(token)
            return _errors(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if rest:  # nextRecordsUrl: <query id>-<offset>
            query_id, offset = rest.rsplit("-", 1)
            return self._records(query_id, int(offset))
        return self._query(request.args.get("q", ""))

    def _query(self, soql: str) -> Response:
        match = SOQL.match(soql)
        if match is None or match["sobject"] not in self.objects:
            return _errors(400, "MALFORMED_QUERY", f"unexpected query: {soql}")
        sobj = self.objects[match["sobject"]]
        selected = [name.strip() for name in match["fields"].split(",")]
        unknown = [name for name in selected if name not in sobj.frame.columns]
        if unknown:
            return _errors(400, "INVALID_FIELD", f"No such column '{unknown[0]}' on entity '{sobj.name}'")
        frame = sobj.frame
        if match["field"]:
            cursor = pd.Timestamp(match["cursor"]).tz_convert(None)
            frame = frame[pd.to_datetime(frame[match["field"]]) > cursor]
        frame = frame.sort_values(list(dict.fromkeys([match["order"], "Id"])))
        self.queries.append(soql)
        query_id = f"01gFAKE{len(self.queries):08d}"
        self._results[query_id] = [self._record(sobj.name, row, selected) for row in frame.to_dict(orient="records")]
        return self._records(query_id, 0)

    def _update(self, body: dict[str, Any]) -> Response:
        """Composite collections update: one result per record, in order; a refused record leaves the rest."""
        self.updates.append(body)
        if len(body["records"]) > 200:
            return _errors(400, "EXCEEDED_ID_LIMIT", "record limit reached. cannot submit more than 200 records")
        now = pd.Timestamp.now(tz="UTC").tz_convert(None).floor("ms")
        results: list[dict[str, Any]] = []
        rows_of: dict[str, dict[str, Any]] = {}
        for record in body["records"]:
            sobj = self.objects[record["attributes"]["type"]]
            values = {k: v for k, v in record.items() if k not in ("attributes", "id")}
            if sobj.name not in rows_of:
                rows_of[sobj.name] = dict(zip(sobj.frame["Id"], sobj.frame.index, strict=True))
            row = rows_of[sobj.name].get(record["id"])
            unknown = [k for k in values if k not in sobj.types]
            if row is None:
                results.append(_failed("ENTITY_IS_DELETED", "entity is deleted", []))
            elif unknown:
                results.append(_failed("INVALID_FIELD", f"No such column '{unknown[0]}'", unknown))
            elif record["id"] in self.refuse:
                results.append(_failed("FIELD_CUSTOM_VALIDATION_EXCEPTION", self.refuse[record["id"]], []))
            else:
                for name, value in {**values, "SystemModstamp": now}.items():
                    sobj.frame.at[row, name] = value
                results.append({"id": record["id"], "success": True, "errors": []})
        return _json(results)

    def _record(self, sobject: str, row: dict[str, Any], selected: list[str]) -> dict[str, Any]:
        attributes = {"type": sobject, "url": f"/services/data/v{self.version}/sobjects/{sobject}/{row['Id']}"}
        return {"attributes": attributes, **{name: _json_value(row[name]) for name in selected}}

    def _records(self, query_id: str, offset: int) -> Response:
        records = self._results[query_id]
        page = records[offset : offset + self.page_size]
        done = offset + self.page_size >= len(records)
        body: dict[str, Any] = {"totalSize": len(records), "done": done, "records": page}
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{self.version}/queryAll/{query_id}-{offset + self.page_size}"
        return _json(body)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


def _failed(code: str, message: str, fields: list[str]) -> dict[str, Any]:
    return {"success": False, "errors": [{"statusCode": code, "message": message, "fields": fields}]}


def _errors(status: int, code: str, message: str) -> Response:
    return _json([{"message": message, "errorCode": code}], status)


# -- TLS for loopback -------------------------------------------------------------------------------------------------
def certificates(folder: Path) -> tuple[ssl.SSLContext, Path]:
    """A throwaway CA and a certificate for 127.0.0.1 it signs: the server's TLS context and the CA bundle file."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "revalign test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )  # fmt: skip
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca.public_bytes(pem))
    (folder / "server.pem").write_bytes(leaf.public_bytes(pem))
    (folder / "server.key").write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem", folder / "server.key")
    return context, folder / "ca.pem"


def start(tables: dict[str, pa.Table], folder: Path, **faults: Any) -> tuple[FakeSalesforce, Path]:
    """A running fake org serving ``tables`` (stop it with ``fake.server.stop()``) and its CA bundle."""
    context, bundle = certificates(folder)
    server = HTTPServer(host="127.0.0.1", ssl_context=context, threaded=True)
    server.start()
    return FakeSalesforce(server, objects_from(tables), **faults), bundle
