"""Numbered migrations of the app state; each file has ``revision`` / ``down_revision``."""
