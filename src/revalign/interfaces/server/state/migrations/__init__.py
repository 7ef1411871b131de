"""Alembic migrations of the app state (run programmatically by ``StateStore.migrate``)."""
