"""Funnel definitions: the spec (steps, windows, rules) and the YAML loader with file:line."""
