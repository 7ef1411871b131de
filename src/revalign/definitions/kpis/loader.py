"""Read catalog YAML into spec objects, remembering the file and line of every node.

Files are read by :mod:`revalign.definitions.yamlfile`, whose mappings know their lines, so that after pydantic
has validated a node we can attach ``FileContext(file, line)`` to it, and a pydantic error can be reported at the
line of the offending key rather than "somewhere in sales.yaml".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from revalign.definitions.issues import Issue, Level
from revalign.definitions.kpis.spec import Kpi, Node, Person, ScorecardTemplate, SemanticModel
from revalign.definitions.yamlfile import LineDict, error_line, line_of, read_yaml
from revalign.errors import ConfigError, FileContext

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent / "default"
DEPRECATED_KEYS = {"type_params": "2027-01-01"}
"""Legacy MetricFlow keys still accepted, with the date after which they become errors."""


def _attach(model: Any, raw: Any, file: str) -> None:
    """Walk a validated model and its raw YAML together, giving every node its file and line."""
    if isinstance(model, Node) and isinstance(raw, LineDict):
        model._ctx = FileContext(file, raw.line)
        model._key_lines = dict(raw.key_lines)
    if isinstance(model, BaseModel) and isinstance(raw, dict):
        for name in type(model).model_fields:
            if name in raw:
                _attach(getattr(model, name), raw[name], file)
    elif isinstance(model, list | tuple) and isinstance(raw, list):
        for m, r in zip(model, raw, strict=False):
            _attach(m, r, file)


class RawCatalog:
    """Everything read from a set of files, before cross-checks: nodes plus the problems met while reading."""

    def __init__(self) -> None:
        self.semantic_models: list[SemanticModel] = []
        self.kpis: list[Kpi] = []
        self.people: list[Person] = []
        self.scorecards: list[ScorecardTemplate] = []
        self.issues: list[Issue] = []
        self.files: list[str] = []

    def add(self, kind: str, node: Node) -> None:
        """File ``node`` under its section (``kpis``, ``semantic_models``, ``people`` or ``scorecards``)."""
        sections: dict[str, list[Any]] = {
            "kpis": self.kpis,
            "semantic_models": self.semantic_models,
            "people": self.people,
            "scorecards": self.scorecards,
        }
        sections[kind].append(node)


_SECTIONS: dict[str, type[Node]] = {
    "semantic_models": SemanticModel,
    "kpis": Kpi,
    "metrics": Kpi,  # MetricFlow's name for them
    "people": Person,
    "scorecards": ScorecardTemplate,
}


def _legacy(raw: Any, file: str, kind: str) -> tuple[Any, list[Issue]]:
    """Flatten deprecated MetricFlow ``type_params`` into top-level keys, with a FUTURE_ERROR each."""
    issues: list[Issue] = []
    if kind != "kpis" or not isinstance(raw, LineDict):
        return raw, issues
    for key, removal in DEPRECATED_KEYS.items():
        if isinstance(raw.get(key), dict):
            inner = raw[key]
            flat = raw.with_items({k: v for k, v in raw.items() if k != key} | dict(inner))
            if isinstance(inner, LineDict):
                flat.key_lines = {**inner.key_lines, **raw.key_lines}
                flat.value_lines = {**inner.value_lines, **raw.value_lines}
            issues.append(
                Issue(
                    Level.FUTURE_ERROR,
                    f"key {key!r} is deprecated (legacy MetricFlow); move its keys to the top level of the KPI. "
                    f"It becomes an error on {removal}.",
                    file=file,
                    line=raw.key_lines.get(key, raw.line),
                    subject=str(raw.get("name", "?")),
                    rule="deprecated_keys",
                    removal_date=removal,
                )
            )
            raw = flat
    return raw, issues


def load_file(path: Path, into: RawCatalog, *, root: Path | None = None) -> None:
    """Read one YAML file into ``into``; unreadable nodes become ERROR issues (nothing is silently skipped)."""
    file = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
    into.files.append(file)
    try:
        data = read_yaml(path)
    except yaml.YAMLError as exc:
        into.issues.append(Issue(Level.ERROR, f"not valid YAML: {exc}", file=file, line=error_line(exc), rule="yaml"))
        return
    if data is None:
        return
    if not isinstance(data, LineDict):
        into.issues.append(Issue(Level.ERROR, "a catalog file must be a mapping of sections", file=file, line=1))
        return
    for section, items in data.items():
        if section not in _SECTIONS:
            into.issues.append(
                Issue(
                    Level.ERROR,
                    f"unknown section {section!r}; allowed: {', '.join(sorted(_SECTIONS))}",
                    file=file,
                    line=data.key_lines.get(str(section)),
                    rule="yaml",
                )
            )
            continue
        _load_section(section, items if isinstance(items, list) else [items], into, file=file, pack=path.stem)


def _load_section(section: str, items: list[Any], into: RawCatalog, *, file: str, pack: str) -> None:
    """Validate each node of one section; a node pydantic refuses becomes one ERROR per problem, at its line."""
    cls = _SECTIONS[section]
    kind = "kpis" if section == "metrics" else section
    for item in items:
        raw, legacy_issues = _legacy(item, file, kind)
        into.issues.extend(legacy_issues)
        if kind == "kpis" and isinstance(raw, LineDict) and "pack" not in raw:
            raw = raw.with_items(raw | {"pack": pack})
        try:
            node = cls.model_validate(raw)
        except ValidationError as exc:
            name = raw.get("name") or raw.get("id") if isinstance(raw, dict) else None
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"])
                into.issues.append(
                    Issue(
                        Level.ERROR,
                        f"{loc}: {err['msg']}",
                        file=file,
                        line=line_of(raw, err["loc"]),
                        subject=str(name) if name and kind == "kpis" else None,
                        rule="schema",
                    )
                )
            continue
        _attach(node, raw, file)
        into.add(kind, node)


def iter_yaml(paths: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """(file, root) for every YAML file under the given files/folders, in a stable order."""
    out: list[tuple[Path, Path]] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            # trees/ holds driver trees (revalign.definitions.trees reads them), not catalog definitions
            out.extend((f, p) for f in sorted(p.rglob("*.y*ml")) if "trees" not in f.relative_to(p).parts[:-1])
        elif p.exists():
            out.append((p, p.parent))
        else:
            raise ConfigError(f"catalog path {p} does not exist; fix `catalog:` in revalign.yaml.")
    return out


def load_raw(paths: Iterable[str | Path]) -> RawCatalog:
    raw = RawCatalog()
    for file, root in iter_yaml(paths):
        load_file(file, raw, root=root)
    return raw
