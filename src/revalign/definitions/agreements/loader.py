"""Agreement YAML → :class:`AgreementSpec` versions, every problem reported at once with file and line.

A project keeps one file per agreement version in ``agreements/`` (``marketing_sales_v1.yaml``, …). The shipped
example (:data:`EXAMPLE_FILE`) is the simulated company's agreement: its follow-up SLA is the simulator's own
(24 continuous hours from MQL to the first sales touch), so the demo's breach ledger can be checked against the
simulator's labels.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from revalign.definitions.agreements.rules import AgreementSet, agreement_rules
from revalign.definitions.agreements.spec import AgreementSpec
from revalign.definitions.issues import Issue, Level, errors, problems
from revalign.definitions.validate import run_rules
from revalign.definitions.yamlfile import LineDict, LineList, error_line, line_of, parse_yaml
from revalign.errors import CatalogError, UnknownNameError

EXAMPLE_FILE = "simulated_company.yaml"
"""The example agreement shipped in ``definitions/agreements/`` (the demo's and the simulator's)."""


def _issue(file: str, line: int | None, message: str, rule: str = "schema", path: str | None = None) -> Issue:
    return Issue(Level.ERROR, message, file=file, line=line, rule=rule, kind="agreement", path=path)


def _lines(data: LineDict, spec: AgreementSpec) -> dict[tuple[str, int, str], int]:
    """``(agreement, version, key) → line`` for the file's top keys and each SLA by name (messages point there)."""
    out = {(spec.agreement, spec.version, ""): data.line}
    for key, line in data.key_lines.items():
        out[(spec.agreement, spec.version, key)] = line
    slas = data.get("slas")
    if isinstance(slas, LineList):
        for item, line in zip(slas, slas.item_lines, strict=True):
            if isinstance(item, dict) and "name" in item:
                out[(spec.agreement, spec.version, str(item["name"]))] = line
    kpis = data.get("kpis")
    if isinstance(kpis, LineList):
        for i, line in enumerate(kpis.item_lines):
            out[(spec.agreement, spec.version, f"kpis[{i}]")] = line
    return out


def read_agreement(text: str, file: str = "<string>") -> tuple[AgreementSpec | None, dict, list[Issue]]:
    """One version from YAML text: the spec (``None`` when broken), its lines, and the schema problems."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        return None, {}, [_issue(file, error_line(exc), f"not valid YAML: {exc}", rule="yaml")]
    if not isinstance(data, LineDict):
        return None, {}, [_issue(file, 1, "an agreement file is a mapping with agreement, version, effective_from…")]
    try:
        spec = AgreementSpec.model_validate({**data, "file": file})
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            dotted = ".".join(map(str, loc))
            issues.append(_issue(file, line_of(data, loc), f"{dotted}: {err['msg']}", path=dotted))
        return None, {}, issues
    return spec, _lines(data, spec), []


def check_agreements(
    texts: Iterable[tuple[str, str]], *, kpi_windows: Mapping[str, str | None] | None = None
) -> tuple[list[AgreementSpec], list[Issue]]:
    """Every valid version of ``(text, file)`` pairs and every problem (schema and rules), nothing raised.

    ``kpi_windows`` (catalog KPI name → conversion window) turns on the rule tying SLAs to catalog KPIs.
    """
    book, issues = checked_book(texts, kpi_windows=kpi_windows)
    return list(book.versions), issues


def checked_book(
    texts: Iterable[tuple[str, str]], *, kpi_windows: Mapping[str, str | None] | None = None
) -> tuple[AgreementBook, list[Issue]]:
    """:func:`check_agreements` as a book that keeps each version's lines (messages about its targets cite them)."""
    specs: list[AgreementSpec] = []
    lines: dict[tuple[str, int, str], int] = {}
    found: list[Issue] = []
    for text, file in texts:
        spec, spec_lines, issues = read_agreement(text, file)
        found.extend(issues)
        if spec is not None:
            specs.append(spec)
            lines.update(spec_lines)
    subject = AgreementSet(specs, lines)
    return AgreementBook(tuple(specs), lines), run_rules(subject, agreement_rules(kpi_windows), found=found)


def agreement_files(folder: Path) -> list[Path]:
    """The agreement files of a project folder's ``agreements/`` (sorted; none when it does not exist)."""
    return sorted((folder / "agreements").glob("*.y*ml")) if (folder / "agreements").is_dir() else []


def example_agreement_text() -> str:
    """The shipped example agreement's YAML text."""
    return resources.files("revalign.definitions.agreements").joinpath(EXAMPLE_FILE).read_text(encoding="utf-8")


def load_agreements(paths: Iterable[Path], *, kpi_windows: Mapping[str, str | None] | None = None) -> AgreementBook:
    """The versions in ``paths``; raises :class:`CatalogError` listing every error with file:line."""
    texts = [(Path(p).read_text(encoding="utf-8"), str(p)) for p in paths]
    book, issues = checked_book(texts, kpi_windows=kpi_windows)
    if errors(issues):
        bad = errors(issues)
        raise CatalogError(problems(bad, "the agreements"), bad)
    return book


def parse_agreements(*texts: tuple[str, str]) -> AgreementBook:
    """Versions from ``(text, file)`` pairs; raises :class:`CatalogError` on any error."""
    book, issues = checked_book(texts)
    if errors(issues):
        bad = errors(issues)
        raise CatalogError(problems(bad, "the agreements"), bad)
    return book


@dataclass(frozen=True)
class AgreementBook:
    """Every version of every agreement; :meth:`in_force` picks the one a date is computed under."""

    versions: tuple[AgreementSpec, ...]
    lines: Mapping[tuple[str, int, str], int] = field(default_factory=dict, compare=False)
    """``(agreement, version, key) → line`` in its file (top keys, SLAs by name, ``kpis[i]``), when read from text."""

    def where(self, spec: AgreementSpec, key: str = "") -> str:
        """``file:line`` of ``key`` in ``spec``'s file (the version's first line when unknown), for messages."""
        line = self.lines.get((spec.agreement, spec.version, key), self.lines.get((spec.agreement, spec.version, "")))
        file = spec.file or "<agreement>"
        return f"{file}:{line}" if line is not None else file

    @property
    def names(self) -> list[str]:
        return sorted({v.agreement for v in self.versions})

    def history(self, name: str | None = None) -> list[AgreementSpec]:
        """The versions of ``name`` (the only agreement when ``None``), oldest first."""
        name = name or self._only()
        out = sorted((v for v in self.versions if v.agreement == name), key=lambda v: v.effective_from)
        if not out:
            raise UnknownNameError("agreement", name, self.names)
        return out

    def in_force(self, on: dt.date, name: str | None = None) -> AgreementSpec | None:
        """The version in force on ``on``: the latest whose ``effective_from`` is on or before it."""
        live = [v for v in self.history(name) if v.effective_from <= on]
        return live[-1] if live else None

    def approved_versions(
        self, signed: Collection[tuple[str, int]], proposed: Collection[tuple[str, int]]
    ) -> frozenset[tuple[str, int]]:
        """The ``(agreement, version)`` pairs numbers may be computed under, given the sign-off recorded.

        A version counts once every signatory has signed it (``signed``: the interface reads that from the app
        state and passes it in as plain data, so the library never touches the server's store). One exception:
        an agreement's *first* version that was never put up for signature (not in ``proposed``) is the
        baseline the project started from and counts as agreed — the shipped example is the simulated
        company's, whose follow-up SLA is the simulator's own, so the demo and the ground-truth checks work
        before anyone signs anything. Proposing that version brings it under sign-off like any other. A
        later version never counts unsigned: a draft or a proposal does not change a number.
        """
        out = set(signed)
        for name in self.names:
            first = self.history(name)[0]
            if first.key not in proposed:
                out.add(first.key)
        return frozenset(k for k in out if any(v.key == k for v in self.versions))

    def only(self, approved: Collection[tuple[str, int]] | None) -> AgreementBook:
        """The book of the ``approved`` versions only (``None``: every version, no sign-off applied)."""
        if approved is None:
            return self
        return AgreementBook(tuple(v for v in self.versions if v.key in approved), self.lines)

    def _only(self) -> str:
        if len(self.names) != 1:
            raise UnknownNameError("agreement", "", self.names)
        return self.names[0]


__all__ = [
    "EXAMPLE_FILE",
    "AgreementBook",
    "agreement_files",
    "check_agreements",
    "checked_book",
    "example_agreement_text",
    "load_agreements",
    "parse_agreements",
    "read_agreement",
]
