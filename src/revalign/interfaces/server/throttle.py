"""Login throttling: exponential back-off per user name and per client address.

Each failed login is counted twice, against the user name typed (whether or not it exists, so a lock does not
reveal which names are real) and against the client address. Once a count reaches its free attempts, every
further failure locks that name or address for ``base_seconds × 2^(failures − free)``, capped at ``max_seconds``;
during a lock every attempt is refused with 429 and ``Retry-After`` *before* the password is checked, so the
right password does not get through either. A successful login forgets its user name's failures but not the
address's (an attacker with one account of their own cannot reset the address count by logging in to it); counts
are forgotten ``forget_seconds`` after their last failure.

The counts live in the state database (table ``login_failures``), so they survive a restart and are shared by
the server's workers. Attempts on the same name or address are serialised within a process (a striped lock held
from the check to the count), so a burst of parallel guesses cannot all slip in before the first is counted.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from revalign.interfaces.server import security
from revalign.interfaces.server.state.store import FailureRecord, StateStore, UserRecord

USER, ADDRESS = "user", "address"


class LoginThrottleSettings(BaseModel):
    """How many failed logins are free, and how long the back-off after them grows."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    free_per_user: int = Field(5, ge=1, description="Failed logins for one user name before it is locked.")
    free_per_address: int = Field(20, ge=1, description="Failed logins from one client address before it is locked.")
    base_seconds: float = Field(1.0, gt=0, description="First lock; each further failure doubles it.")
    max_seconds: float = Field(900.0, gt=0, description="Longest lock.")
    forget_seconds: float = Field(3600.0, gt=0, description="Failures are forgotten this long after the last one.")


@dataclass(frozen=True)
class Locked:
    """A refused attempt: which count is locked, and for how many more seconds (the ``Retry-After`` value)."""

    scope: str
    retry_after: int


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class LoginThrottle:
    """Counts failed logins in ``store`` and refuses attempts while a user name or address is locked."""

    STRIPES = 64

    def __init__(self, store: StateStore, settings: LoginThrottleSettings | None = None) -> None:
        self.store = store
        self.settings = settings or LoginThrottleSettings()
        self._stripes = [threading.Lock() for _ in range(self.STRIPES)]
        security.dummy_hash()  # made now, so the first unknown user's login is not slower than the others

    def attempt(self, username: str, address: str, password: str) -> UserRecord | Locked | None:
        """Authenticate unless a lock is in force: the user, a :class:`Locked`, or ``None`` (wrong credentials)."""
        keys = {USER: username.strip().lower()[:256], ADDRESS: address[:256]}
        with self._serialised(keys.values()):
            now = _now()
            records = {scope: self._live(scope, key, now) for scope, key in keys.items()}
            for scope, record in records.items():
                if record is not None and record.locked_until is not None and record.locked_until > now:
                    return Locked(scope, math.ceil((record.locked_until - now).total_seconds()))
            user = self.store.authenticate(username, password)
            if user is not None:
                self.store.set_login_failures(USER, keys[USER], None)
                return user
            for scope, key in keys.items():
                self.store.set_login_failures(scope, key, self._failed(scope, records[scope], _now()))
            return None

    def _live(self, scope: str, key: str, now: datetime) -> FailureRecord | None:
        record = self.store.login_failures(scope, key)
        if record is None or now - record.last_failure_at > timedelta(seconds=self.settings.forget_seconds):
            return None
        return record

    def _failed(self, scope: str, record: FailureRecord | None, now: datetime) -> FailureRecord:
        failures = (record.failures if record else 0) + 1
        free = self.settings.free_per_user if scope == USER else self.settings.free_per_address
        locked_until = None
        if failures >= free:
            seconds = min(self.settings.max_seconds, self.settings.base_seconds * 2 ** min(failures - free, 32))
            locked_until = now + timedelta(seconds=seconds)
        return FailureRecord(failures, now, locked_until)

    @contextmanager
    def _serialised(self, keys: Iterable[str]) -> Iterator[None]:
        """Hold the stripes of ``keys`` in a fixed order (two attempts sharing a stripe cannot deadlock)."""
        indexes = sorted({hash(key) % self.STRIPES for key in keys})
        for index in indexes:
            self._stripes[index].acquire()
        try:
            yield
        finally:
            for index in reversed(indexes):
                self._stripes[index].release()
