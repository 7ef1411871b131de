"""① The HubSpot CRM API as a sync reads it: owners, deal pipelines, property definitions, search, batch read with
property history, archived records and associations.

Plain ``requests`` with urllib3's ``Retry`` (as the Salesforce client's session) rather than the official
``hubspot-api-client``: that client is generated per API group (crm.objects, crm.owners, crm.pipelines,
crm.associations.v4, crm.properties, oauth …), each with its own configuration to point at another host or CA bundle,
and it leaves an expired OAuth token to the caller; the nine requests a sync makes are simpler to read here, in
one place, than spread over nine generated clients. What this module adds around the requests:

- **Auth.** A private app's token is sent as is. With OAuth, an access token comes from the refresh token
  (``POST /oauth/v1/token``, ``grant_type=refresh_token``); when the API answers 401 (the token expired mid-sync)
  it is refreshed, once, and the request repeated; a second 401 is an error.
- **Rate limits and outages.** A 429 or 503 is retried by the session's adapter, waiting ``Retry-After``, else an
  exponential backoff.
- **Paging.** Lists follow ``paging.next.after``; the search for modified records pages by the modified date
  itself (:meth:`HubSpotClient.changed`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import requests

from revalign.sources.sync.client import SyncError, retrying_session
from revalign.sources.sync.config import HubSpotConfig

BATCH = 50
"""Ids a batch read asks for at once: HubSpot's limit when ``propertiesWithHistory`` is requested."""

Record = dict[str, Any]


class HubSpotClient:
    """An authorised connection to one portal, for one sync."""

    def __init__(self, config: HubSpotConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or retrying_session(config)
        self.sign_ins = 0
        self._token: str | None = config.access_token

    # -- auth --------------------------------------------------------------------------------------------------------
    def sign_in(self) -> str:
        """A new access token from the OAuth refresh token (a private app's token never changes)."""
        c = self.config
        if c.flow == "private_app":
            raise SyncError(
                "HubSpot refused the private app's access token (401): check that it is current and that the app "
                "has the crm.objects.*.read, crm.schemas.*.read and crm.objects.owners.read scopes"
            )
        url = f"{c.base_url}/oauth/v1/token"
        data = {"grant_type": "refresh_token", "client_id": c.client_id, "client_secret": c.client_secret,
                "refresh_token": c.refresh_token}  # fmt: skip
        try:
            answer = self.session.post(url, data=data, timeout=c.timeout)
        except requests.RequestException as exc:
            raise SyncError(f"Could not reach HubSpot's token endpoint at {url}: {exc}") from exc
        body = _json(answer)
        if answer.status_code != 200 or "access_token" not in body:
            reason = body.get("message") or body.get("error_description") or body.get("error") or answer.text[:200]
            raise SyncError(
                f"HubSpot refused to refresh the access token (OAuth, client {str(c.client_id)[:6]}…): {reason}. "
                "Check the app's client id and secret and that the refresh token was not revoked"
            )
        self.sign_ins += 1
        self._token = str(body["access_token"])
        return self._token

    def request(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                body: dict[str, Any] | None = None) -> Record:  # fmt: skip
        """The JSON answer to ``method path``; on a 401, a new token once and the request again."""
        if self._token is None:
            self.sign_in()
        answer = self._send(method, path, params, body)
        if answer.status_code == 401:
            self.sign_in()
            answer = self._send(method, path, params, body)
        if answer.status_code >= 400:
            raise _failed(answer, method, path)
        return _json(answer)

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: dict[str, Any] | None) -> Any:
        url = f"{self.config.base_url}{path}"
        headers = {"Authorization": f"Bearer {self._token}"}
        try:
            return self.session.request(method, url, params=params, json=body, headers=headers,
                                        timeout=self.config.timeout)  # fmt: skip
        except requests.RequestException as exc:
            raise SyncError(f"Could not reach HubSpot at {url}: {exc}") from exc

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[list[Record]]:
        """Every page of a list, following ``paging.next.after``."""
        while True:
            page = self.request("GET", path, params=params)
            yield list(page.get("results", []))
            after = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not after:
                return
            params = {**params, "after": after}

    # -- reading -----------------------------------------------------------------------------------------------------
    def properties(self, object_type: str) -> dict[str, str]:
        """The object's properties → their type (``string``, ``number``, ``datetime``, ``date``, ``bool``, …)."""
        found = self.request("GET", f"/crm/v3/properties/{object_type}")
        return {p["name"]: p["type"] for p in found.get("results", [])}

    def changed(self, object_type: str, cursor_property: str, cursor: datetime | None) -> Iterator[list[Record]]:
        """Ids and ``cursor_property`` of the records modified after ``cursor`` (all without one), oldest first,
        each once.

        Pages by the modified date itself (keyset): each search asks for the records modified at or after the
        newest one of the page before, and drops the ones already read. Paging by ``after`` alone (an offset)
        would skip a record whenever one read earlier is modified mid-sync (it moves to the end, the rest shift
        down) and stops at the search API's 10,000 results; ``after`` is used only while a whole page shares one
        modified time (a bulk import), to page through the ties.
        """
        path = f"/crm/v3/objects/{object_type}/search"
        seen: set[str] = set()
        operator, since, after = "GT", cursor, None
        while True:
            filters = [] if since is None else [{"filters": [
                {"propertyName": cursor_property, "operator": operator, "value": str(epoch_ms(since))}]}]  # fmt: skip
            body: dict[str, Any] = {"filterGroups": filters, "limit": self.config.page_size,
                                    "sorts": [{"propertyName": cursor_property, "direction": "ASCENDING"}],
                                    "properties": [cursor_property]}  # fmt: skip
            if after is not None:
                body["after"] = after
            page = self.request("POST", path, body=body)
            results = list(page.get("results", []))
            fresh = [r for r in results if str(r["id"]) not in seen]
            seen.update(str(r["id"]) for r in fresh)
            if fresh:
                yield fresh
            following = ((page.get("paging") or {}).get("next") or {}).get("after")
            if not following or not results:
                return
            newest = max(modified(r, cursor_property) for r in results)
            if newest == since:
                after = following  # the page is all ties: page through them
            else:
                operator, since, after = "GTE", newest, None

    def read(self, object_type: str, ids: Sequence[str], properties: Sequence[str],
             history: Sequence[str] = ()) -> list[Record]:  # fmt: skip
        """The records ``ids`` with ``properties`` and the full history of ``history``, :data:`BATCH` at a time."""
        found: list[Record] = []
        for start in range(0, len(ids), BATCH):
            body = {"inputs": [{"id": i} for i in ids[start : start + BATCH]], "properties": list(properties),
                    "propertiesWithHistory": list(history)}  # fmt: skip
            found += self.request("POST", f"/crm/v3/objects/{object_type}/batch/read", body=body).get("results", [])
        return found

    def archived(self, object_type: str) -> Iterator[list[Record]]:
        """The object's archived (deleted) records, which search never returns."""
        params = {"archived": "true", "limit": self.config.page_size}
        return self._pages(f"/crm/v3/objects/{object_type}", params)

    def associations(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """Each of ``ids`` → the ids of the ``to_type`` records associated with it (v4 batch read)."""
        found: dict[str, list[str]] = {}
        for start in range(0, len(ids), 1000):
            body = {"inputs": [{"id": i} for i in ids[start : start + 1000]]}
            answer = self.request("POST", f"/crm/v4/associations/{from_type}/{to_type}/batch/read", body=body)
            for result in answer.get("results", []):
                found[str(result["from"]["id"])] = [str(to["toObjectId"]) for to in result.get("to", [])]
        return found

    def owners(self) -> Iterator[list[Record]]:
        """Every owner, active ones then archived ones (a deactivated user still owns records)."""
        for archived in ("false", "true"):
            yield from self._pages("/crm/v3/owners", {"limit": 100, "archived": archived})

    def pipelines(self, object_type: str) -> list[Record]:
        """The object's pipelines, each with its stages."""
        return list(self.request("GET", f"/crm/v3/pipelines/{object_type}").get("results", []))


def modified(record: Record, cursor_property: str) -> datetime:
    """A search result's modified time (ISO in the API) as naive UTC."""
    value = (record.get("properties") or {}).get(cursor_property)
    if not value:
        raise SyncError(f"HubSpot's search answered record {record.get('id')} without {cursor_property}")
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC).replace(tzinfo=None)


def epoch_ms(moment: datetime) -> int:
    """A naive UTC time as HubSpot's filter value: milliseconds since the epoch."""
    return int(moment.replace(tzinfo=UTC).timestamp() * 1000)


def _json(answer: requests.Response) -> Record:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _failed(answer: requests.Response, method: str, path: str) -> SyncError:
    """HubSpot's error answer as ours: the status, the request and HubSpot's message and correlation id."""
    body = _json(answer)
    message = body.get("message") or answer.text[:300]
    where = f"{method} {path}"
    if answer.status_code in (429, 503):
        return SyncError(
            f"HubSpot kept answering {answer.status_code} (rate limit or outage) to {where} after the retries: "
            f"{message}. Run the sync again later; it resumes from the last object it finished"
        )
    correlation = f" (correlation id {body['correlationId']})" if body.get("correlationId") else ""
    return SyncError(f"HubSpot answered {answer.status_code} to {where}: {message}{correlation}")
