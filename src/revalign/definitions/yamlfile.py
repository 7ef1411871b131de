"""The one YAML reader for definitions: plain Python data that still knows the line of every node.

A user who writes a KPI, a driver tree, a funnel, a target or a source mapping must be told *where* a problem
is, so every definition kind reads its file here. Mappings come back as :class:`LineDict` and sequences as
:class:`LineList`: a ``dict``/``list`` (pydantic and the readers use them as such) that also carries the
1-based line of the node, of each key and value (or item), and the keys written twice. :func:`line_of` finds the
line of a place in the file from a path of keys and indexes (a pydantic error location, for instance).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser (PyYAML's wheels carry it): 8× faster on the default catalog, the same nodes and marks
    from yaml import CSafeLoader as _SafeBase
except ImportError:  # a PyYAML built without libyaml
    from yaml import SafeLoader as _SafeBase  # type: ignore[assignment]  # the same loader without libyaml


class LineDict(dict[Any, Any]):
    """A mapping read from YAML, with its line, each key's and value's line, and the keys written twice."""

    line: int = 0
    key_lines: dict[str, int]
    value_lines: dict[str, int]
    duplicates: list[tuple[str, int]]
    """``(key, line)`` of every repeated key after its first occurrence (YAML keeps the last value)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines, self.value_lines, self.duplicates = {}, {}, []

    def with_items(self, items: dict[Any, Any]) -> LineDict:
        """A copy holding ``items`` instead, with this mapping's lines (for a reader that rewrites keys)."""
        out = LineDict(items)
        out.line, out.key_lines, out.value_lines = self.line, dict(self.key_lines), dict(self.value_lines)
        return out


class LineList(list[Any]):
    """A sequence read from YAML, with its line and the line of each item."""

    line: int = 0
    item_lines: list[int]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines = []


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _LineLoader(_SafeBase):
    """A safe loader (no arbitrary objects) building :class:`LineDict` / :class:`LineList` with every node's line."""

    def construct_line_mapping(self, node: yaml.MappingNode) -> LineDict:
        mapping = LineDict(self.construct_mapping(node, deep=True))
        mapping.line = _line(node)
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            name = str(key.value)
            if name in mapping.key_lines:
                mapping.duplicates.append((name, _line(key)))
                continue
            mapping.key_lines[name], mapping.value_lines[name] = _line(key), _line(value)
        return mapping

    def construct_line_sequence(self, node: yaml.SequenceNode) -> LineList:
        items = LineList(self.construct_sequence(node, deep=True))
        items.line, items.item_lines = _line(node), [_line(n) for n in node.value]
        return items


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _LineLoader.construct_line_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _LineLoader.construct_line_sequence)


def parse_yaml(text: str) -> Any:
    """The data of one YAML document, mappings and sequences knowing their lines; raises ``yaml.YAMLError``."""
    return yaml.load(text, Loader=_LineLoader)  # a safe loader: no arbitrary objects


def read_yaml(path: str | Path) -> Any:
    """:func:`parse_yaml` of a UTF-8 file; raises ``OSError`` or ``yaml.YAMLError``."""
    return parse_yaml(Path(path).read_text(encoding="utf-8"))


def error_line(exc: yaml.YAMLError) -> int | None:
    """The 1-based line a YAML syntax error points at, when it points at one."""
    mark = exc.problem_mark if isinstance(exc, yaml.MarkedYAMLError) else None
    return mark.line + 1 if mark is not None else None


def node_line(value: Any, default: int | None = None) -> int | None:
    """The line of a mapping or sequence read by this module (``default`` for a scalar)."""
    return value.line if isinstance(value, LineDict | LineList) else default


def line_of(root: Any, path: Iterable[Any]) -> int | None:
    """The line of the deepest node of ``root`` along ``path`` (mapping keys and sequence indexes).

    A key's line is where the key is written; when its value is a mapping or a sequence, the line where that
    starts. Parts that lead nowhere (a missing key, pydantic's internal names) stop the walk there.
    """
    line = node_line(root)
    node = root
    for part in path:
        if isinstance(node, LineDict) and str(part) in node.key_lines:
            line = node.key_lines[str(part)]
            node = node.get(part, node.get(str(part)))
        elif isinstance(node, LineList) and isinstance(part, int) and 0 <= part < len(node):
            line = node.item_lines[part]
            node = node[part]
        else:
            break
        line = node_line(node, line)
    return line


__all__ = ["LineDict", "LineList", "error_line", "line_of", "node_line", "parse_yaml", "read_yaml"]
