"""Funnel YAML → :class:`FunnelSpec`, with every problem reported at once with its file and line.

The file holds a top-level ``funnels:`` mapping of name → definition. Validation errors from pydantic carry a
path (``steps → 2 → within``); :func:`~revalign.definitions.yamlfile.line_of` follows that path to the line, so a
user reads ``funnels.yaml:31: lead_to_customer.steps.2.within: a duration must be like '30d' …``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml
from pydantic import ValidationError

from revalign.definitions.funnels.spec import FunnelSpec
from revalign.definitions.issues import Issue, Level, problems, sort_issues
from revalign.definitions.yamlfile import LineDict, error_line, line_of, parse_yaml
from revalign.errors import CatalogError, UnknownNameError

DEFAULT_FILE = "funnels.yaml"


def _issue(
    file: str,
    line: int | None,
    message: str,
    *,
    rule: str = "schema",
    funnel: str | None = None,
    path: str | None = None,
) -> Issue:
    return Issue(Level.ERROR, message, file=file, line=line, subject=funnel, rule=rule, kind="funnel", path=path)


def check_funnels(text: str, file: str = "<string>") -> tuple[dict[str, FunnelSpec], list[Issue]]:
    """The valid funnels of funnel YAML and every problem found, each with file and line (nothing raised)."""
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        return {}, [_issue(file, error_line(exc), f"not valid YAML: {exc}", rule="yaml")]
    if not isinstance(data, LineDict) or not isinstance(data.get("funnels"), LineDict):
        message = "a funnel file must have a top-level 'funnels:' mapping of name → definition."
        return {}, [_issue(file, 1, message, rule="structure")]
    issues: list[Issue] = []
    specs: dict[str, FunnelSpec] = {}
    for name, body in data["funnels"].items():
        if not isinstance(body, dict):
            line = line_of(data, ("funnels", name))
            issues.append(_issue(file, line, f"funnel {name!r} must be a mapping", funnel=str(name)))
            continue
        try:
            specs[str(name)] = FunnelSpec.model_validate({"name": str(name), **body})
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                dotted = ".".join(str(p) for p in (name, *loc))
                line = line_of(data, ("funnels", name, *loc))
                issues.append(_issue(file, line, err["msg"], funnel=str(name), path=dotted))
    return specs, sort_issues(issues)


def parse_funnels(text: str, file: str = "<string>") -> dict[str, FunnelSpec]:
    """Parse and validate funnel YAML; raises :class:`CatalogError` listing every issue with file:line."""
    specs, issues = check_funnels(text, file)
    if issues:
        raise CatalogError(problems(issues, str(file)), issues)
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
