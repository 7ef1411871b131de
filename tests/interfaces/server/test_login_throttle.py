"""Login hardening: back-off after failed logins, no timing gap between known and unknown users, rehash on login.

Throttle settings are shrunk (locks of a fraction of a second) so the tests wait briefly; the policy is the same.
"""

from __future__ import annotations

import base64
import hashlib
import statistics
import time
from datetime import UTC, datetime

import argon2
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from revalign.interfaces.server import ServerSettings, create_app, security
from revalign.interfaces.server.state.store import users
from revalign.interfaces.server.throttle import LoginThrottleSettings
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error

FAST = LoginThrottleSettings(free_per_user=5, free_per_address=50, base_seconds=0.4, max_seconds=1.6)


def make_app(project, throttle: LoginThrottleSettings):
    app = create_app(project, state_url="sqlite://", settings=ServerSettings(login_throttle=throttle))
    app.state.store.add_user("victim", PASSWORD, "sales")
    return app


def attempt(client: TestClient, username: str, password: str, *, json: bool = False):
    if client.cookies.get("revalign_csrf") is None:
        client.get("/login")
    headers = {"Accept": "application/json"} if json else {}
    data = {"username": username, "password": password, "csrf_token": client.cookies.get("revalign_csrf")}
    return client.post("/login", data=data, headers=headers, follow_redirects=False)


def wait_for_unlock(app, scope: str, key: str) -> None:
    record = app.state.store.login_failures(scope, key)
    assert record is not None and record.locked_until is not None
    time.sleep(max(0.0, (record.locked_until - datetime.now(UTC).replace(tzinfo=None)).total_seconds()) + 0.05)


def test_brute_force_is_locked_out_then_the_right_password_works_after_the_back_off(tiny_project):
    app = make_app(tiny_project, FAST)
    client = TestClient(app)
    for _ in range(FAST.free_per_user):
        assert attempt(client, "victim", "wrong-password-1").status_code == 401
    locked = attempt(client, "victim", PASSWORD)  # the right password, during the lock
    assert locked.status_code == 429 and int(locked.headers["retry-after"]) >= 1
    assert "Too many failed logins" in locked.text and "revalign_session" not in client.cookies
    refused = attempt(client, "victim", PASSWORD, json=True)  # a script gets the API's JSON error
    assert assert_canonical_error(refused, 429)["errors"][0]["rule"] == "throttled"
    assert int(refused.headers["retry-after"]) >= 1
    wait_for_unlock(app, "user", "victim")
    assert attempt(client, "victim", PASSWORD).status_code == 303  # accepted after the back-off
    assert app.state.store.login_failures("user", "victim") is None  # success forgets the user's failures


def test_back_off_doubles_with_each_further_failure_up_to_the_cap(tiny_project):
    app = make_app(tiny_project, FAST)
    client = TestClient(app)
    locks = []
    for _ in range(FAST.free_per_user - 1):
        assert attempt(client, "victim", "wrong-password-1").status_code == 401
    for _ in range(4):
        assert attempt(client, "victim", "wrong-password-1").status_code == 401
        record = app.state.store.login_failures("user", "victim")
        locks.append(round((record.locked_until - record.last_failure_at).total_seconds(), 3))
        assert attempt(client, "victim", "wrong-password-1").status_code == 429  # refused, and not counted
        wait_for_unlock(app, "user", "victim")
    assert locks == [0.4, 0.8, 1.6, 1.6]  # base × 2^(failures − free), capped at max_seconds
    assert app.state.store.login_failures("user", "victim").failures == FAST.free_per_user + 3


def test_unknown_user_names_are_locked_the_same_way(tiny_project):
    app = make_app(tiny_project, FAST)
    client = TestClient(app)
    for _ in range(FAST.free_per_user):
        assert attempt(client, "no-such-user", "whatever-123").status_code == 401
    assert attempt(client, "no-such-user", "whatever-123").status_code == 429  # a lock tells nothing either


def test_one_address_spraying_many_user_names_is_locked(tiny_project):
    app = make_app(tiny_project, LoginThrottleSettings(free_per_user=5, free_per_address=3, base_seconds=30))
    sprayer = TestClient(app, client=("203.0.113.7", 40000))
    for name in ("alice", "bob", "carol"):
        assert attempt(sprayer, name, "Winter2026!").status_code == 401
    refused = attempt(sprayer, "victim", PASSWORD)
    assert refused.status_code == 429 and "network address" in refused.text
    assert int(refused.headers["retry-after"]) in (29, 30)
    elsewhere = TestClient(app, client=("198.51.100.2", 40000))  # the user is not locked, only that address
    assert attempt(elsewhere, "victim", PASSWORD).status_code == 303


def _median_login_seconds(client: TestClient, username_for, rounds: int) -> tuple[float, float]:
    """Medians of wrong-password attempts, known and unknown user interleaved so that machine load hits both."""
    known, unknown = [], []
    for i in range(rounds):
        for name, times in (("victim", known), (username_for(i), unknown)):
            started = time.perf_counter()
            assert attempt(client, name, "wrong-password-1").status_code == 401
            times.append(time.perf_counter() - started)
    return statistics.median(known), statistics.median(unknown)


def test_login_time_does_not_reveal_whether_the_user_exists(tiny_project):
    """Before the fix an unknown user cost two hashes (hash + verify) and a known one a single verify: a ratio
    of about 2 (169 ms vs 88 ms). Both now cost one argon2id verification; medians of interleaved attempts keep
    the comparison steady on a busy machine, and a noisy first run is measured again before failing."""
    app = make_app(tiny_project, LoginThrottleSettings(free_per_user=1000, free_per_address=1000))
    client = TestClient(app)
    attempt(client, "warm-up", "wrong-password-1")
    ratios = []
    for run in range(3):
        known, unknown = _median_login_seconds(client, lambda i, run=run: f"ghost-{run}-{i}", rounds=15)
        ratios.append(max(known, unknown) / min(known, unknown))
        if ratios[-1] < 1.5:
            break
    assert min(ratios) < 1.5, f"known/unknown login time ratios {ratios}"


def _legacy_scrypt(password: str) -> str:
    """A hash as revalign 0.1 stored it: ``scrypt$n$r$p$salt$hash`` with N=2^14."""
    salt = b"fixed-salt-16byt"
    digest = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def _stored_hash(app, username: str) -> str:
    with app.state.store.db.connect() as conn:
        return conn.execute(sa.select(users.c.password_hash).where(users.c.username == username)).scalar_one()


@pytest.mark.parametrize("old", ["scrypt", "weak-argon2id"])
def test_an_old_hash_is_replaced_at_the_next_successful_login(tiny_project, old):
    app = make_app(tiny_project, FAST)
    if old == "scrypt":
        legacy = _legacy_scrypt(PASSWORD)
    else:
        legacy = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    with app.state.store.db.begin() as conn:
        conn.execute(users.update().where(users.c.username == "victim").values(password_hash=legacy))
    client = TestClient(app)
    assert attempt(client, "victim", "wrong-password-1").status_code == 401
    assert _stored_hash(app, "victim") == legacy  # a failed login changes nothing
    assert attempt(client, "victim", PASSWORD).status_code == 303  # the old hash still logs in …
    rehashed = _stored_hash(app, "victim")
    assert rehashed.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # … and is replaced by today's
    assert security.verify_password(PASSWORD, rehashed) and not security.needs_rehash(rehashed)
    assert attempt(TestClient(app), "victim", PASSWORD).status_code == 303
    assert _stored_hash(app, "victim") == rehashed  # a current hash is left alone
