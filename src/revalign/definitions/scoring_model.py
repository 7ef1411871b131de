"""The predictive lead score's settings as a definition (``scoring_model.yaml``): which model, which features.

Letting a feature the leakage guard flagged into a model is a decision someone must own, so it is written down
with its reason, reviewed like any definition, and kept in the model's metadata::

    kind: gbm                      # gbm or logistic
    drop_features: [Tags, Lead Quality]
    allow_features:
      - name: Last Activity
        reason: our CRM export freezes it at the first sales contact

Read with :func:`check_model_config` (``definitions.yamlfile``: every problem carries file:line), checked by
small rules (:data:`RULES`) through ``definitions.validate.run_rules``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from revalign.definitions.issues import Issue, Level
from revalign.definitions.validate import Rule, run_rules
from revalign.definitions.yamlfile import LineDict, error_line, node_line, parse_yaml

MODEL_KINDS = ("logistic", "gbm")
KEYS = ("kind", "drop_features", "allow_features")


@dataclass(frozen=True)
class AllowedFeature:
    name: str
    reason: str
    line: int | None = None


@dataclass(frozen=True)
class ModelConfig:
    """What a ``scoring_model.yaml`` says, with the raw mapping kept for the rules (lines)."""

    file: str
    raw: Any
    kind: str = "gbm"
    drop_features: tuple[str, ...] = ()
    allow_features: tuple[AllowedFeature, ...] = ()

    @property
    def allow(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.allow_features)


def _issue(config: ModelConfig, message: str, rule: str, line: int | None = None) -> Issue:
    return Issue(Level.ERROR, message, file=config.file, line=line or node_line(config.raw), rule=rule)


class KnownKeys(Rule[ModelConfig]):
    name = "keys"

    def check(self, subject: ModelConfig) -> Iterable[Issue]:
        raw = subject.raw if isinstance(subject.raw, LineDict) else LineDict()
        for key in raw:
            if key not in KEYS:
                line = raw.key_lines.get(str(key))
                yield _issue(subject, f"unknown key {key!r} (known: {', '.join(KEYS)})", self.name, line)


class KindIsKnown(Rule[ModelConfig]):
    name = "kind"

    def check(self, subject: ModelConfig) -> Iterable[Issue]:
        if subject.kind not in MODEL_KINDS:
            yield _issue(subject, f"kind must be one of {', '.join(MODEL_KINDS)}, not {subject.kind!r}", self.name)


class AllowedHasReason(Rule[ModelConfig]):
    """An allowed leak without a reason is a silent one: every allowance names why it is safe."""

    name = "allow_reason"

    def check(self, subject: ModelConfig) -> Iterable[Issue]:
        for a in subject.allow_features:
            if not a.name:
                yield _issue(subject, "an allowed feature needs a name", self.name, a.line)
            elif not a.reason.strip():
                yield _issue(subject, f"allowed feature {a.name!r} needs a reason", self.name, a.line)


RULES: tuple[Rule[ModelConfig], ...] = (KnownKeys(), KindIsKnown(), AllowedHasReason())


def _allowed(items: Any) -> tuple[AllowedFeature, ...]:
    out = []
    for item in items or ():
        if isinstance(item, dict):
            out.append(AllowedFeature(str(item.get("name") or ""), str(item.get("reason") or ""), node_line(item)))
        else:
            out.append(AllowedFeature(str(item), "", None))
    return tuple(out)


def check_model_config(text: str, file: str) -> tuple[ModelConfig | None, list[Issue]]:
    """The config in ``text`` and every issue (file:line); ``None`` when the YAML cannot be read at all."""
    try:
        raw = parse_yaml(text)
    except yaml.YAMLError as exc:
        return None, [Issue(Level.ERROR, f"not valid YAML: {exc}", file=file, line=error_line(exc), rule="yaml")]
    if raw is None:
        raw = LineDict()
    if not isinstance(raw, dict):
        return None, [Issue(Level.ERROR, "expected a mapping (kind, drop_features, allow_features)", file=file)]
    config = ModelConfig(
        file=file,
        raw=raw,
        kind=str(raw.get("kind", "gbm")),
        drop_features=tuple(str(d) for d in raw.get("drop_features") or ()),
        allow_features=_allowed(raw.get("allow_features")),
    )
    return config, run_rules(config, RULES)
