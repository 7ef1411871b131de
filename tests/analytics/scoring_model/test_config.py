"""``scoring_model.yaml``: every problem with file:line and rule; an allowed leak must say why."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from revalign.definitions.issues import errors
from revalign.definitions.scoring_model import check_model_config
from revalign.errors import ConfigError
from revalign.interfaces.cli.score_model import app

GOOD = """\
kind: logistic
drop_features: [Tags]
allow_features:
  - name: Last Activity
    reason: frozen at the first sales contact in our export
"""

BAD = """\
kind: forest
allow_features:
  - name: Tags
  - name: Lead Quality
    reason: ""
colour: blue
"""


def test_good_config() -> None:
    config, issues = check_model_config(GOOD, "scoring_model.yaml")
    assert issues == [] and config is not None
    assert (config.kind, config.drop_features, config.allow) == ("logistic", ("Tags",), ("Last Activity",))


def test_every_problem_with_its_line() -> None:
    _, issues = check_model_config(BAD, "scoring_model.yaml")
    found = sorted((i.rule, i.line) for i in errors(issues))
    assert found == [("allow_reason", 3), ("allow_reason", 4), ("keys", 6), ("kind", 1)]
    assert any("'Tags' needs a reason" in str(i) for i in issues)
    assert all(str(i).startswith("scoring_model.yaml:") for i in issues)
    _, broken = check_model_config("kind: [", "m.yaml")
    assert broken[0].rule == "yaml" and broken[0].line is not None


def test_cli_reads_the_config(tmp_path: Path, shared_data: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD, encoding="utf-8")
    leads = shared_data / "x_education_leads" / "Leads.csv"
    result = CliRunner().invoke(
        app, ["fit", "--csv", str(leads), "--out", str(tmp_path / "m.pkl"), "--config", str(bad)]
    )
    assert isinstance(result.exception, ConfigError) and "bad.yaml:6" in str(result.exception)
