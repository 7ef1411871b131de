"""``StateStore``: users, API tokens, sessions, saved views and failed logins on SQLite (default) or PostgreSQL.

SQLAlchemy 2 Core talks to either database; Alembic migrations (``migrations/versions``) create and evolve
the schema, run by :meth:`StateStore.migrate` when the server starts, so a deployment never needs a
separate migration step and an older state file is upgraded in place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from revalign.errors import ConfigError, UnknownNameError
from revalign.interfaces.server import security
from revalign.interfaces.server.roles import ROLES

MIGRATIONS = Path(__file__).parent / "migrations"

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(128)),
    sa.Column("display_name", sa.String(256)),
    sa.Column("password_hash", sa.String(512)),
    sa.Column("role", sa.String(32)),
    sa.Column("owner_id", sa.String(128)),
    sa.Column("disabled", sa.Boolean),
    sa.Column("created_at", sa.DateTime),
)
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("name", sa.String(128)),
    sa.Column("prefix", sa.String(16)),
    sa.Column("token_hash", sa.String(128)),
    sa.Column("created_at", sa.DateTime),
    sa.Column("last_used_at", sa.DateTime),
    sa.Column("revoked", sa.Boolean),
)
sessions = sa.Table(
    "sessions",
    metadata,
    sa.Column("token_hash", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("csrf_token", sa.String(128)),
    sa.Column("created_at", sa.DateTime),
    sa.Column("expires_at", sa.DateTime),
)
saved_views = sa.Table(
    "saved_views",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer),
    sa.Column("name", sa.String(128)),
    sa.Column("page", sa.String(64)),
    sa.Column("query", sa.Text),
    sa.Column("created_at", sa.DateTime),
)
login_failures = sa.Table(
    "login_failures",
    metadata,
    sa.Column("scope", sa.String(16), primary_key=True),
    sa.Column("key", sa.String(256), primary_key=True),
    sa.Column("failures", sa.Integer),
    sa.Column("last_failure_at", sa.DateTime),
    sa.Column("locked_until", sa.DateTime),
)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def default_state_url(folder: Path) -> str:
    """``sqlite:///<project>/.revalign/state.sqlite``: state stays with the project it belongs to."""
    path = Path(folder) / ".revalign" / "state.sqlite"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class UserRecord:
    """A user as the server sees it (never carries the password hash out of the store)."""

    id: int
    username: str
    display_name: str
    role: str
    owner_id: str | None
    disabled: bool


@dataclass(frozen=True)
class FailureRecord:
    """Failed logins counted against one user name or one client address (``scope`` is "user" or "address")."""

    failures: int
    last_failure_at: datetime
    locked_until: datetime | None


@dataclass(frozen=True)
class SessionRecord:
    user: UserRecord
    csrf_token: str
    expires_at: datetime


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name or row.username,
        role=row.role,
        owner_id=row.owner_id,
        disabled=bool(row.disabled),
    )


class StateStore:
    """The app state database. Create one per app; it is safe to share between request threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith(("postgres://", "postgresql://")) and "+" not in url.split("://", 1)[0]:
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        kwargs: dict[str, Any] = {}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False}
            if url in ("sqlite://", "sqlite:///:memory:"):
                kwargs["poolclass"] = StaticPool
        try:
            self.db = sa.create_engine(url, **kwargs)
        except Exception as exc:  # bad URL or missing driver: say which setting to fix
            raise ConfigError(
                f"state_url {self.url!r} cannot be used: {exc}. Use sqlite:///path or postgresql://…"
            ) from exc

    # -- schema -------------------------------------------------------------------------------------
    def migrate(self, revision: str = "head") -> str:
        """Bring the schema to ``revision`` (the newest by default); returns the revision now in force."""
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.db.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        with self.db.connect() as conn:
            return str(MigrationContext.configure(conn).get_current_revision())

    def close(self) -> None:
        self.db.dispose()

    # -- users --------------------------------------------------------------------------------------
    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        *,
        owner_id: str | None = None,
        display_name: str | None = None,
        replace: bool = False,
    ) -> UserRecord:
        """Create (or with ``replace=True`` reset) a user; a rep must be bound to a canonical ``owner_id``."""
        if role not in ROLES:
            raise UnknownNameError("role", role, ROLES)
        if role == "rep" and not owner_id:
            raise ConfigError(f"user {username!r}: a rep must be bound to a canonical user_id (--owner-id).")
        if not username or len(password) < 8:
            raise ConfigError(f"user {username!r}: a username and a password of at least 8 characters are needed.")
        values = {
            "username": username,
            "display_name": display_name or username,
            "password_hash": security.hash_password(password),
            "role": role,
            "owner_id": owner_id,
            "disabled": False,
        }
        with self.db.begin() as conn:
            existing = conn.execute(sa.select(users.c.id).where(users.c.username == username)).first()
            if existing is not None:
                if not replace:
                    raise ConfigError(f"user {username!r} already exists; pass replace=True (--replace) to reset it.")
                conn.execute(users.update().where(users.c.id == existing.id).values(**values))
            else:
                conn.execute(users.insert().values(created_at=_now(), **values))
        return self.get_user(username)

    def get_user(self, username: str) -> UserRecord:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            raise UnknownNameError("user", username, self.usernames())
        return _user(row)

    def usernames(self) -> list[str]:
        with self.db.connect() as conn:
            return [r.username for r in conn.execute(sa.select(users.c.username).order_by(users.c.username))]

    def list_users(self) -> list[UserRecord]:
        with self.db.connect() as conn:
            return [_user(r) for r in conn.execute(sa.select(users).order_by(users.c.username))]

    def authenticate(self, username: str, password: str) -> UserRecord | None:
        """The user when the password matches and the account is enabled; ``None`` otherwise.

        Every failure costs one password verification, an unknown user's against a dummy hash, so the time taken
        does not reveal which usernames exist. A hash made with older parameters is replaced on success.
        """
        with self.db.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username)).first()
        if row is None:
            security.verify_password(password, security.dummy_hash())
            return None
        if not security.verify_password(password, row.password_hash) or row.disabled:
            return None
        if security.needs_rehash(row.password_hash):
            with self.db.begin() as conn:
                conn.execute(
                    users.update().where(users.c.id == row.id).values(password_hash=security.hash_password(password))
                )
        return _user(row)

    # -- failed logins ------------------------------------------------------------------------------
    def login_failures(self, scope: str, key: str) -> FailureRecord | None:
        """The failed logins counted for ``key`` (a user name or a client address), or ``None``."""
        query = sa.select(login_failures).where(login_failures.c.scope == scope, login_failures.c.key == key)
        with self.db.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return FailureRecord(row.failures, row.last_failure_at, row.locked_until)

    def set_login_failures(self, scope: str, key: str, record: FailureRecord | None) -> None:
        """Replace the count for ``key`` (``None`` forgets it, as after a successful login)."""
        where = (login_failures.c.scope == scope, login_failures.c.key == key)
        with self.db.begin() as conn:
            conn.execute(login_failures.delete().where(*where))
            if record is not None:
                conn.execute(
                    login_failures.insert().values(
                        scope=scope,
                        key=key,
                        failures=record.failures,
                        last_failure_at=record.last_failure_at,
                        locked_until=record.locked_until,
                    )
                )

    # -- sessions -----------------------------------------------------------------------------------
    def open_session(self, user: UserRecord, *, hours: float = 12.0) -> tuple[str, str]:
        """A new session for ``user``: returns (session token for the cookie, CSRF token for forms)."""
        token, csrf = security.new_token(), security.new_token()
        with self.db.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.expires_at < _now()))
            conn.execute(
                sessions.insert().values(
                    token_hash=security.token_hash(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=_now(),
                    expires_at=_now() + timedelta(hours=hours),
                )
            )
        return token, csrf

    def session(self, token: str) -> SessionRecord | None:
        """The live session behind a cookie value, or ``None`` (unknown, expired, or user disabled)."""
        query = (
            sa.select(users, sessions.c.csrf_token, sessions.c.expires_at)
            .join(sessions, sessions.c.user_id == users.c.id)
            .where(sessions.c.token_hash == security.token_hash(token))
        )
        with self.db.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.expires_at < _now() or row.disabled:
            return None
        return SessionRecord(user=_user(row), csrf_token=row.csrf_token, expires_at=row.expires_at)

    def close_session(self, token: str) -> None:
        with self.db.begin() as conn:
            conn.execute(sessions.delete().where(sessions.c.token_hash == security.token_hash(token)))

    # -- API tokens ---------------------------------------------------------------------------------
    def create_token(self, username: str, name: str) -> str:
        """A new API token for ``username``; the token is returned once and only its hash is stored."""
        user = self.get_user(username)
        token = security.new_token(security.TOKEN_PREFIX)
        with self.db.begin() as conn:
            conn.execute(
                api_tokens.insert().values(
                    user_id=user.id,
                    name=name,
                    prefix=token[:8],
                    token_hash=security.token_hash(token),
                    created_at=_now(),
                    revoked=False,
                )
            )
        return token

    def user_for_token(self, token: str) -> UserRecord | None:
        query = (
            sa.select(users)
            .join(api_tokens, api_tokens.c.user_id == users.c.id)
            .where(api_tokens.c.token_hash == security.token_hash(token), api_tokens.c.revoked == sa.false())
        )
        with self.db.connect() as conn:
            row = conn.execute(query).first()
        if row is None or row.disabled:
            return None
        return _user(row)

    def list_tokens(self, user: UserRecord) -> list[dict[str, Any]]:
        query = sa.select(api_tokens).where(api_tokens.c.user_id == user.id).order_by(api_tokens.c.id)
        with self.db.connect() as conn:
            return [
                {"id": r.id, "name": r.name, "prefix": r.prefix, "created_at": r.created_at, "revoked": r.revoked}
                for r in conn.execute(query)
            ]

    def revoke_token(self, user: UserRecord, token_id: int) -> bool:
        with self.db.begin() as conn:
            result = conn.execute(
                api_tokens.update()
                .where(api_tokens.c.id == token_id, api_tokens.c.user_id == user.id)
                .values(revoked=True)
            )
        return result.rowcount > 0

    # -- saved views --------------------------------------------------------------------------------
    def save_view(self, user: UserRecord, name: str, page: str, query: dict[str, Any]) -> dict[str, Any]:
        """Save (or overwrite) a named filter set of ``page`` for ``user``."""
        text = json.dumps(query, sort_keys=True)
        with self.db.begin() as conn:
            conn.execute(saved_views.delete().where(saved_views.c.user_id == user.id, saved_views.c.name == name))
            conn.execute(
                saved_views.insert().values(user_id=user.id, name=name, page=page, query=text, created_at=_now())
            )
        return {"name": name, "page": page, "query": query}

    def list_views(self, user: UserRecord) -> list[dict[str, Any]]:
        query = sa.select(saved_views).where(saved_views.c.user_id == user.id).order_by(saved_views.c.name)
        with self.db.connect() as conn:
            return [{"name": r.name, "page": r.page, "query": json.loads(r.query)} for r in conn.execute(query)]

    def delete_view(self, user: UserRecord, name: str) -> bool:
        with self.db.begin() as conn:
            result = conn.execute(
                saved_views.delete().where(saved_views.c.user_id == user.id, saved_views.c.name == name)
            )
        return result.rowcount > 0
