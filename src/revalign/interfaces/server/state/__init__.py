"""The server's own state (users, API tokens, sessions, saved views, failed logins), kept apart from the revenue data.

It lives in SQLite next to the project by default and in PostgreSQL when ``state_url`` says so; its schema
is versioned with Alembic migrations (``state/migrations/versions``) so an upgrade never loses users.
"""

from __future__ import annotations

from revalign.interfaces.server.state.store import StateStore, UserRecord, default_state_url

__all__ = ["StateStore", "UserRecord", "default_state_url"]
