"""Read catalog YAML into spec objects, remembering the file and line of every node.

A ``SafeLoader`` subclass returns mappings as :class:`LineDict` (a dict that knows its line), so that after
pydantic has validated a node we can attach ``FileContext(file, line)`` to it, and a pydantic error can be
reported at the line of the offending key rather than "somewhere in sales.yaml".
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from revalign.definitions.kpis.issues import Issue, Level
from revalign.definitions.kpis.spec import Kpi, Node, Person, Scorecard, SemanticModel
from revalign.errors import FileContext

DEFAULT_CATALOG_DIR = Path(__file__).resolve().parent / "default"
DEPRECATED_KEYS = {"type_params": "2027-01-01"}
"""Legacy MetricFlow keys still accepted, with the date after which they become errors."""


class LineDict(dict):
    """A mapping read from YAML, with the 1-based line of its first key (and of each key)."""

    line: int = 0
    key_lines: dict[str, int]


class LineLoader(yaml.SafeLoader):
    """SafeLoader that records line numbers on every mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # type: ignore[override]
        mapping = LineDict(super().construct_mapping(node, deep=True))
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {
            str(k.value): k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)
        }
        return mapping


LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, LineLoader.construct_mapping)


def read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=LineLoader)


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


def _line_of(raw: Any, loc: Iterable[Any]) -> int | None:
    """The line of the deepest YAML node on a pydantic error location."""
    line = getattr(raw, "line", None)
    node = raw
    for part in loc:
        if isinstance(node, LineDict) and isinstance(part, str):
            line = node.key_lines.get(part, line)
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            break
        line = getattr(node, "line", line)
    return line


class RawCatalog:
    """Everything read from a set of files, before cross-checks: nodes plus the problems met while reading."""

    def __init__(self) -> None:
        self.semantic_models: list[SemanticModel] = []
        self.kpis: list[Kpi] = []
        self.people: list[Person] = []
        self.scorecards: list[Scorecard] = []
        self.issues: list[Issue] = []
        self.files: list[str] = []


_SECTIONS: dict[str, type[Node]] = {
    "semantic_models": SemanticModel,
    "kpis": Kpi,
    "metrics": Kpi,  # MetricFlow's name for them
    "people": Person,
    "scorecards": Scorecard,
}


def _legacy(raw: Any, file: str, kind: str) -> tuple[Any, list[Issue]]:
    """Flatten deprecated MetricFlow ``type_params`` into top-level keys, with a FUTURE_ERROR each."""
    issues: list[Issue] = []
    if kind != "kpis" or not isinstance(raw, LineDict):
        return raw, issues
    for key, removal in DEPRECATED_KEYS.items():
        if isinstance(raw.get(key), dict):
            flat = LineDict({k: v for k, v in raw.items() if k != key} | dict(raw[key]))
            flat.line, flat.key_lines = raw.line, {**getattr(raw[key], "key_lines", {}), **raw.key_lines}
            issues.append(
                Issue(
                    Level.FUTURE_ERROR,
                    f"key {key!r} is deprecated (legacy MetricFlow); move its keys to the top level of the KPI. "
                    f"It becomes an error on {removal}.",
                    file=file,
                    line=raw.key_lines.get(key, raw.line),
                    kpi=str(raw.get("name", "?")),
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
        mark = getattr(exc, "problem_mark", None)
        into.issues.append(
            Issue(Level.ERROR, f"not valid YAML: {exc}", file=file, line=mark.line + 1 if mark else None, rule="yaml")
        )
        return
    if data is None:
        return
    if not isinstance(data, dict):
        into.issues.append(Issue(Level.ERROR, "a catalog file must be a mapping of sections", file=file, line=1))
        return
    pack = path.stem
    for section, items in data.items():
        cls = _SECTIONS.get(section)
        if cls is None:
            into.issues.append(
                Issue(
                    Level.ERROR,
                    f"unknown section {section!r}; allowed: {', '.join(sorted(_SECTIONS))}",
                    file=file,
                    line=data.key_lines.get(section),
                    rule="yaml",
                )
            )
            continue
        if not isinstance(items, list):
            items = [items]
        kind = "kpis" if section == "metrics" else section
        for raw in items:
            raw, legacy_issues = _legacy(raw, file, kind)
            into.issues.extend(legacy_issues)
            if kind == "kpis" and isinstance(raw, dict) and "pack" not in raw:
                raw_line, raw_keys = raw.line, raw.key_lines
                raw = LineDict(raw | {"pack": pack})
                raw.line, raw.key_lines = raw_line, raw_keys
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
                            line=_line_of(raw, err["loc"]),
                            kpi=str(name) if name and kind == "kpis" else None,
                            rule="schema",
                        )
                    )
                continue
            _attach(node, raw, file)
            getattr(into, kind).append(node)


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
            from revalign.errors import ConfigError

            raise ConfigError(f"catalog path {p} does not exist; fix `catalog:` in revalign.yaml.")
    return out


def load_raw(paths: Iterable[str | Path]) -> RawCatalog:
    raw = RawCatalog()
    for file, root in iter_yaml(paths):
        load_file(file, raw, root=root)
    return raw
