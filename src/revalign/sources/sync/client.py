"""① The Salesforce REST API as a sync reads it: sign in, describe an object, and page through a SOQL query.

The maintained client (simple-salesforce) sends the requests and turns error answers into exceptions; this module
adds what an unattended sync needs around it:

- **Sign-in anywhere.** simple-salesforce builds its token URL from a ``*.salesforce.com`` domain; a sync must
  also reach a My Domain, a sandbox or a test double, so the OAuth token request (client-credentials or
  username-password flow) is posted here to ``<login_url>/services/oauth2/token`` and the client is built from the
  token and the ``instance_url`` it returns.
- **Rate limits and outages.** Every request goes through a :class:`requests.Session` whose adapter retries a 429
  or 503 answer (urllib3's ``Retry``), waiting the ``Retry-After`` the API gives, else an exponential backoff.
- **Token expiry.** A 401 ``INVALID_SESSION_ID`` (the session timed out mid-sync) signs in again, once, and repeats
  the request; a second refusal is an error.
- **Deleted records.** Queries go to ``queryAll``, which also returns records in the recycle bin (``IsDeleted``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceError, SalesforceExpiredSession
from urllib3.util.retry import Retry

from revalign.errors import EngineError
from revalign.sources.sync.config import HubSpotConfig, SalesforceConfig

T = TypeVar("T")

UNSELECTABLE = frozenset({"address", "location", "base64", "complexvalue"})
"""Field types a query cannot select as a column (compound fields repeat their parts; blobs are not synced)."""


class SyncError(EngineError):
    """The CRM's API could not be read: sign-in refused, an error answer, or retries exhausted."""


class SalesforceClient:
    """A signed-in connection to one org, for one sync."""

    def __init__(self, config: SalesforceConfig, session: requests.Session | None = None) -> None:
        self.config = config
        self.session = session or retrying_session(config)
        self.sign_ins = 0
        self._sf: Salesforce | None = None

    # -- signing in ----------------------------------------------------------------------------------------------
    def sign_in(self) -> Salesforce:
        """A token from the OAuth token endpoint, and the client built on it."""
        c = self.config
        data = {"grant_type": c.flow, "client_id": c.client_id, "client_secret": c.client_secret}
        if c.flow == "password":
            data |= {"username": c.username or "", "password": c.password or ""}
        url = f"{c.login_url}/services/oauth2/token"
        try:
            answer = self.session.post(url, data=data, timeout=c.timeout)
        except requests.RequestException as exc:
            raise SyncError(f"Could not reach the Salesforce sign-in at {url}: {exc}") from exc
        body = _json(answer)
        if answer.status_code != 200 or "access_token" not in body:
            reason = body.get("error_description") or body.get("error") or answer.text[:200]
            raise SyncError(
                f"Salesforce refused the sign-in ({c.flow} flow, client {c.client_id[:6]}…): {reason}. Check the "
                "connected app's consumer key and secret, and that the flow is enabled for it"
            )
        self.sign_ins += 1
        self._sf = Salesforce(
            instance_url=body["instance_url"], session_id=body["access_token"], session=self.session,
            version=c.api_version,
        )  # fmt: skip
        return self._sf

    def call(self, request: Callable[[Salesforce], T]) -> T:
        """``request(client)``; on an expired session, sign in again once and repeat it."""
        sf = self._sf or self.sign_in()
        try:
            return request(sf)
        except SalesforceExpiredSession:
            sf = self.sign_in()
        except SalesforceError as exc:
            raise _failed(exc) from exc
        try:
            return request(sf)
        except SalesforceError as exc:
            raise _failed(exc) from exc

    # -- reading -------------------------------------------------------------------------------------------------
    def fields(self, sobject: str) -> dict[str, str]:
        """The object's fields that a query can select → their Salesforce type (``datetime``, ``double``, …)."""
        path = f"sobjects/{sobject}/describe"
        described = self.call(lambda sf: sf.restful(path, method="GET", timeout=self.config.timeout))
        if not isinstance(described, dict):
            raise SyncError(f"Salesforce answered no description of {sobject}: is the object enabled for the API user?")
        return {f["name"]: f["type"] for f in described["fields"] if f["type"] not in UNSELECTABLE}

    def pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        """The records of ``soql`` (deleted ones included), one page at a time, following ``nextRecordsUrl``."""
        timeout = self.config.timeout
        page = self.call(lambda sf: sf.query(soql, include_deleted=True, timeout=timeout))
        while True:
            yield page["records"]
            following = page.get("nextRecordsUrl")
            if page.get("done", True) or not following:
                return
            page = self.call(partial(_more, url=following, timeout=timeout))


def _more(sf: Salesforce, *, url: str, timeout: float) -> Any:
    """The page at a ``nextRecordsUrl``."""
    return sf.query_more(url, identifier_is_url=True, timeout=timeout)


def retrying_session(config: SalesforceConfig | HubSpotConfig) -> requests.Session:
    """A session that retries 429 and 503 answers (honouring ``Retry-After``) and verifies with ``ca_bundle``: both
    CRMs' clients use it."""
    retry = Retry(
        total=config.retries, connect=config.retries, read=0, status=config.retries,
        status_forcelist=(429, 503), allowed_methods=frozenset({"GET", "POST"}), backoff_factor=config.backoff,
        respect_retry_after_header=True, raise_on_status=False,
    )  # fmt: skip
    session = requests.Session()
    adapter = RetryingAdapter(max_retries=retry, ca_bundle=config.ca_bundle)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session


class RetryingAdapter(HTTPAdapter):
    """An adapter that retries (``max_retries``) and verifies certificates with ``ca_bundle`` when one is given.

    The bundle is applied here, per request, because requests lets ``REQUESTS_CA_BUNDLE`` (set system-wide on
    many machines) override a session's own ``verify`` (psf/requests#3829).
    """

    def __init__(self, *, max_retries: Retry, ca_bundle: str | None) -> None:
        super().__init__(max_retries=max_retries)
        self.ca_bundle = ca_bundle

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]  # requests' stub spells each keyword out; they are passed through unchanged
        if self.ca_bundle:
            kwargs["verify"] = self.ca_bundle
        return super().send(request, **kwargs)


def _json(answer: requests.Response) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _failed(exc: SalesforceError) -> SyncError:
    """simple-salesforce's error as ours: the status, the resource and Salesforce's own message."""
    content = exc.content.decode(errors="replace") if isinstance(exc.content, bytes) else exc.content
    if exc.status in (429, 503):
        return SyncError(
            f"Salesforce kept answering {exc.status} (rate limit or outage) after the retries: {content}. "
            "Run the sync again later; it resumes from the last object it finished"
        )
    return SyncError(f"Salesforce answered {exc.status} to {exc.resource_name}: {content}")
