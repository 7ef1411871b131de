"""Logins, sessions, CSRF, API tokens and roles: who can open what."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from datetime import datetime, timedelta

import argon2
import pytest
from fastapi.testclient import TestClient

from revalign.interfaces.server import security
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.store import FailureRecord
from tests.interfaces.server.conftest import PASSWORD, assert_canonical_error, login


def test_anonymous_api_gets_401_and_pages_redirect_to_login(app):
    client = TestClient(app)
    assert_canonical_error(client.get("/api/v1/overview"), 401)
    page = client.get("/scorecards?grain=quarter", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=%2Fscorecards%3Fgrain%3Dquarter"


def test_session_cookie_is_httponly_and_samesite(app):
    client = TestClient(app)
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": client.cookies.get("revalign_csrf")},
        follow_redirects=False,
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("revalign_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http on loopback; https requests get Secure (next test)


def test_cookie_is_secure_over_https(app):
    client = TestClient(app, base_url="https://testserver")
    client.get("/login")
    response = client.post(
        "/login",
        data={"username": "admin", "password": PASSWORD, "csrf_token": client.cookies.get("revalign_csrf")},
        follow_redirects=False,
    )
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("revalign_session="))
    assert "Secure" in cookie


def test_wrong_password_is_refused_without_saying_which_part_was_wrong(app):
    client = TestClient(app)
    client.get("/login")
    csrf = client.cookies.get("revalign_csrf")
    for user, pw in (("admin", "nope-nope-nope"), ("nobody", PASSWORD)):
        response = client.post("/login", data={"username": user, "password": pw, "csrf_token": csrf})
        assert response.status_code == 401
        assert "Wrong username or password." in response.text
    assert "revalign_session" not in client.cookies


def test_login_without_the_csrf_token_is_refused(app):
    client = TestClient(app)
    client.get("/login")
    response = client.post("/login", data={"username": "admin", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    assert "revalign_session" not in client.cookies


def test_login_redirect_never_leaves_the_site(app):
    client = TestClient(app)
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "username": "admin",
            "password": PASSWORD,
            "csrf_token": client.cookies.get("revalign_csrf"),
            "next": "//evil.example/phish",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_form_posts_need_the_session_csrf_token(app):
    client = login(TestClient(app), "marketer")
    refused = client.post("/account/tokens", data={"name": "x"})
    assert refused.status_code == 403
    assert "CSRF" in refused.text
    page = client.get("/account")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    created = client.post("/account/tokens", data={"name": "x", "csrf_token": csrf})
    assert created.status_code == 200 and 'id="new-token"' in created.text


def test_logout_ends_the_session_server_side(app):
    client = login(TestClient(app), "leader")
    cookie = client.cookies.get("revalign_session")
    csrf = client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    replay = TestClient(app, cookies={"revalign_session": cookie})
    assert_canonical_error(replay.get("/api/v1/me"), 401)  # a copied cookie is dead after logout


def test_api_token_authenticates_and_is_stored_hashed(app, tiny_project):
    store: StateStore = app.state.store
    token = store.create_token("leader", "ci")
    client = TestClient(app)
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["role"] == "leadership"
    path = store.db.url.database
    with sqlite3.connect(path) as con:
        dump = "\n".join(con.iterdump())
    assert token not in dump and security.token_hash(token) in dump
    assert_canonical_error(client.get("/api/v1/me", headers={"Authorization": "Bearer rva_wrong"}), 401)


def test_revoked_token_stops_working(app):
    store: StateStore = app.state.store
    token = store.create_token("marketer", "temp")
    headers = {"Authorization": f"Bearer {token}"}
    client = TestClient(app)
    token_id = client.get("/api/v1/tokens", headers=headers).json()["tokens"][-1]["id"]
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=headers).status_code == 200
    assert_canonical_error(client.get("/api/v1/me", headers=headers), 401)


def test_passwords_are_salted_argon2id_hashes_at_owasp_parameters():
    a, b = security.hash_password("s3cret-pass"), security.hash_password("s3cret-pass")
    assert a != b and "s3cret" not in a
    assert a.startswith("$argon2id$v=19$m=19456,t=2,p=1$")  # OWASP: 19 MiB, 2 iterations, 1 lane
    assert security.verify_password("s3cret-pass", a) and not security.verify_password("s3cret-pasS", a)
    assert not security.verify_password("anything", "not-a-hash")
    assert not security.needs_rehash(a)


def test_hashes_of_earlier_versions_still_verify_and_ask_for_a_rehash():
    """A ``scrypt$n$r$p$salt$hash`` string as revalign 0.1 wrote it (N=2^14), built here with hashlib."""
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"old-password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert security.verify_password("old-password", legacy)
    assert not security.verify_password("old-passworD", legacy)
    assert security.needs_rehash(legacy)
    weaker = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash("pw-weaker-1")
    assert security.verify_password("pw-weaker-1", weaker) and security.needs_rehash(weaker)


@pytest.mark.parametrize("path", ["/admin", "/api/v1/admin/users"])
@pytest.mark.parametrize("username", ["rep1", "marketer", "leader"])
def test_admin_pages_are_admin_only(as_user, username, path):
    response = as_user(username).get(path)
    assert response.status_code == 403
    if path.startswith("/api"):
        assert_canonical_error(response, 403)
    else:
        assert "Not allowed" in response.text


def test_admin_can_add_a_user_who_can_then_log_in(as_user, app):
    admin = as_user("admin")
    csrf = admin.get("/admin").text.split('name="csrf_token" value="')[1].split('"')[0]
    made = admin.post(
        "/admin/users",
        data={"username": "newbie", "password": "long-enough-1", "role": "sales", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert made.status_code == 303
    assert login(TestClient(app), "newbie", "long-enough-1").get("/api/v1/me").json()["role"] == "sales"


def test_api_user_creation_validates_role_and_rep_binding(as_user):
    admin = as_user("admin")
    bad_role = admin.post(
        "/api/v1/admin/users",
        json={"username": "x1", "password": "long-enough-1", "role": "ceo"},
        headers={"X-CSRF-Token": "ignored"},
    )
    # cookie-authenticated JSON posts need the session's CSRF header: refused before validation
    assert_canonical_error(bad_role, 403)
    token = admin.app.state.store.create_token("admin", "api")  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {token}"}
    client = TestClient(admin.app)  # type: ignore[arg-type]
    body = assert_canonical_error(
        client.post(
            "/api/v1/admin/users", json={"username": "x1", "password": "long-enough-1", "role": "ceo"}, headers=headers
        ),
        422,
    )
    assert body["errors"][0]["loc"] == ["body", "role"]
    rep = assert_canonical_error(
        client.post(
            "/api/v1/admin/users", json={"username": "x2", "password": "long-enough-1", "role": "rep"}, headers=headers
        ),
        422,
    )
    assert "owner" in rep["error"] or "user_id" in rep["error"]


def test_state_store_migrates_in_place_and_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    first = StateStore(url)
    assert first.migrate("0001") == "0001"  # a state file as revalign 0.1 left it
    first.add_user("keep", "password-123", "sales")
    first.close()
    again = StateStore(url)
    # adds login_failures, audit_decisions, approvals, the alert tables and the disputes; the user survives
    assert again.migrate() == "0006"
    assert again.get_user("keep").role == "sales"
    assert again.login_failures("user", "keep") is None
    assert again.migrate() == "0006"  # nothing left to do


@pytest.mark.postgres
def test_state_store_on_postgresql(postgres_server):
    url = postgres_server.create_database("state_store_test")
    store = StateStore(url)
    assert store.migrate() == "0006"
    store.add_user("pg", "password-123", "rep", owner_id="u9")
    token = store.create_token("pg", "ci")
    assert store.user_for_token(token).owner_id == "u9"
    when = datetime(2026, 1, 2, 3, 4, 5)
    record = FailureRecord(failures=6, last_failure_at=when, locked_until=when + timedelta(seconds=2))
    store.set_login_failures("address", "10.0.0.1", record)
    assert store.login_failures("address", "10.0.0.1") == record
    store.set_login_failures("address", "10.0.0.1", None)
    assert store.login_failures("address", "10.0.0.1") is None
    store.close()


def test_saving_a_view_from_a_page_form(as_user):
    client = as_user("marketer")
    csrf = client.get("/account").text.split('name="csrf_token" value="')[1].split('"')[0]
    saved = client.post(
        "/account/views",
        data={"name": "smb funnel", "page": "funnel", "query": "segment=smb&grain=quarter", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/funnel?segment=smb&grain=quarter"
    views = client.get("/api/v1/views").json()["views"]
    assert {"name": "smb funnel", "page": "funnel", "query": {"segment": "smb", "grain": "quarter"}} in views


def test_a_huge_token_id_is_a_422_not_a_database_overflow(app):
    """Found by schemathesis: an id beyond SQLite's 64-bit INTEGER was a 500 (OverflowError)."""
    headers = {"Authorization": f"Bearer {app.state.store.create_token('marketer', 'overflow')}"}
    response = TestClient(app).delete("/api/v1/tokens/99999999999999999999", headers=headers)
    body = assert_canonical_error(response, 422)
    assert body["errors"][0]["loc"] == ["path", "token_id"]
