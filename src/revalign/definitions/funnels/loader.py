"""Funnel YAML → :class:`FunnelSpec`, with every problem reported at once with its file and line.

The file holds a top-level ``funnels:`` mapping of name → definition. Validation errors from pydantic carry a
path (``steps → 2 → within``); the loader walks the YAML node tree along that path to find the line, so a user
reads ``funnels.yaml:31: lead_to_customer.steps.2.within: a duration must be like '30d' …``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from revalign.definitions.funnels.spec import FunnelSpec
from revalign.errors import CatalogError, FileContext, UnknownNameError

DEFAULT_FILE = "funnels.yaml"


def _node_at(node: yaml.Node, path: tuple[Any, ...]) -> yaml.Node:
    """The deepest YAML node along ``path`` (mapping keys and sequence indexes)."""
    for part in path:
        if isinstance(node, yaml.MappingNode):
            nxt = next((v for k, v in node.value if k.value == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            nxt = node.value[part]
        else:
            nxt = None
        if nxt is None:
            break
        node = nxt
    return node


def _line(root: yaml.Node | None, path: tuple[Any, ...]) -> int | None:
    return None if root is None else _node_at(root, path).start_mark.line + 1


def parse_funnels(text: str, file: str = "<string>") -> dict[str, FunnelSpec]:
    """Parse and validate funnel YAML; raises :class:`CatalogError` listing every issue with file:line."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = FileContext(file, mark.line + 1 if mark is not None else None)
        raise CatalogError(f"{where}: not valid YAML: {exc}", [f"{where}: not valid YAML"]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("funnels"), dict):
        where = FileContext(file, 1)
        raise CatalogError(
            f"{where}: a funnel file must have a top-level 'funnels:' mapping of name → definition.",
            [f"{where}: missing 'funnels:'"],
        )
    issues: list[str] = []
    specs: dict[str, FunnelSpec] = {}
    for name, body in data["funnels"].items():
        if not isinstance(body, dict):
            issues.append(f"{FileContext(file, _line(root, ('funnels', name)))}: funnel {name!r} must be a mapping")
            continue
        try:
            specs[str(name)] = FunnelSpec.model_validate({"name": str(name), **body})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                line = _line(root, ("funnels", name, *loc))
                dotted = ".".join(str(p) for p in (name, *loc))
                issues.append(f"{FileContext(file, line)}: {dotted}: {err['msg']}")
    if issues:
        raise CatalogError(f"{len(issues)} problem(s) in {file}:\n  " + "\n  ".join(issues), issues)
    return specs


def load_funnels(path: str | Path) -> dict[str, FunnelSpec]:
    """Funnels defined in the YAML file ``path``."""
    path = Path(path)
    return parse_funnels(path.read_text(encoding="utf-8"), str(path))


def default_funnels() -> dict[str, FunnelSpec]:
    """The funnels shipped with revalign (``definitions/funnels/funnels.yaml``)."""
    text = resources.files("revalign.definitions.funnels").joinpath(DEFAULT_FILE).read_text(encoding="utf-8")
    return parse_funnels(text, DEFAULT_FILE)


def resolve_funnel(spec_or_name: FunnelSpec | str, extra: dict[str, FunnelSpec] | None = None) -> FunnelSpec:
    """A spec passed through, or a named funnel from ``extra`` (a project's own) or the defaults."""
    if isinstance(spec_or_name, FunnelSpec):
        return spec_or_name
    known = {**default_funnels(), **(extra or {})}
    if spec_or_name not in known:
        raise UnknownNameError("funnel", spec_or_name, known)
    return known[spec_or_name]
