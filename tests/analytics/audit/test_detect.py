"""``detect``, ``Project.audit_findings``, the audit settings in revalign.yaml and ``revalign audit``, on a small
simulated company (scale xs) in a real project folder.

Expected values come from the simulator's labels and from recomputing the documented ``finding_id`` formula with
hashlib here, never from the detectors themselves.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from revalign.analytics.audit.findings import FINDING_COLUMNS, FINDING_KINDS, HEADLINE_KINDS
from revalign.definitions.audit import AuditSettings, audit_settings, check_audit_settings
from revalign.errors import ConfigError, UnknownNameError
from revalign.interfaces.cli import main
from revalign.project import init_project, open_project
from revalign.simulate import simulate
from tests.analytics.audit.scoring import keys


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("audit")
    init_project(folder)
    company = simulate(scale="xs", seed=0)
    project = open_project(folder)
    try:
        company.write(project.engine)
    finally:
        project.close()
    company.truth.labels.to_pandas().to_parquet(folder / "labels.parquet")
    return folder


@pytest.fixture(scope="module")
def findings(folder: Path) -> pd.DataFrame:
    project = open_project(folder)
    try:
        return project.audit_findings()
    finally:
        project.close()


def test_findings_have_the_one_shape_sorted_by_kind_and_time(findings: pd.DataFrame) -> None:
    assert list(findings.columns) == list(FINDING_COLUMNS)
    assert set(findings["kind"]) <= set(FINDING_KINDS)
    order = findings["kind"].map(FINDING_KINDS.index)
    assert order.is_monotonic_increasing
    for _, rows in findings.groupby("kind"):
        assert rows["occurred_at"].is_monotonic_increasing


def test_finding_id_is_the_documented_hash(findings: pd.DataFrame) -> None:
    for row in findings.head(20).itertuples():
        when = row.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.%f")
        related = "" if pd.isna(row.related_id) else row.related_id
        text = f"{row.kind}|{row.entity_id}|{related}|{when}"
        assert row.finding_id == hashlib.sha1(text.encode()).hexdigest()[:16]
    assert findings["finding_id"].is_unique


def test_kinds_and_since_filter(folder: Path, findings: pd.DataFrame) -> None:
    project = open_project(folder)
    try:
        headline = project.audit_findings(kinds=HEADLINE_KINDS, since="2025-01-01")
        with pytest.raises(UnknownNameError):
            project.audit_findings(kinds="lead_source_overwrites")
    finally:
        project.close()
    expected = findings[findings["kind"].isin(HEADLINE_KINDS) & (findings["occurred_at"] >= "2025-01-01")]
    pd.testing.assert_frame_equal(headline, expected.reset_index(drop=True))


def test_headline_findings_match_the_labels(folder: Path, findings: pd.DataFrame) -> None:
    labels = pd.read_parquet(folder / "labels.parquet")
    for kind in HEADLINE_KINDS:
        assert keys(findings, kind) == keys(labels, kind)


def test_cli_json_lists_the_findings(folder: Path, findings: pd.DataFrame, capsys: pytest.CaptureFixture) -> None:
    args = ["audit", "--project", str(folder), "--kind", "no_opportunity_recreate", "--json"]
    assert main(args) == 0
    out = json.loads(capsys.readouterr().out)
    expected = findings[findings["kind"] == "no_opportunity_recreate"]
    assert [(f["kind"], f["entity_id"], f["related_id"]) for f in out["findings"]] == list(
        zip(expected["kind"], expected["entity_id"], expected["related_id"], strict=True)
    )
    assert set(out["findings"][0]) == set(FINDING_COLUMNS)


def test_cli_table_shows_money_through_display(folder: Path, findings: pd.DataFrame, capsys) -> None:
    assert main(["audit", "--project", str(folder), "--kind", "lead_source_overwrite"]) == 0
    out = capsys.readouterr().out
    won = findings[(findings["kind"] == "lead_source_overwrite") & (findings["revenue_at_stake"] > 0)]
    assert f"${won['revenue_at_stake'].iloc[0]:,.0f}" in out
    assert "lead_source_overwrite" in out


def test_settings_from_revalign_yaml(tmp_path: Path) -> None:
    init_project(tmp_path)
    path = tmp_path / "revalign.yaml"
    raw = yaml.safe_load(path.read_text())
    raw["audit"] = {"no_opportunity_recreate": {"window_days": 10}, "close_date_push": {"min_pushes": 3}}
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    project = open_project(tmp_path)
    try:
        settings = project.audit_settings
    finally:
        project.close()
    assert settings.no_opportunity_recreate.window_days == 10
    assert settings.close_date_push.min_pushes == 3
    assert settings.stage_skip == AuditSettings().stage_skip  # the rest keep their defaults


def test_settings_errors_name_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "revalign.yaml"
    path.write_text(
        "name: x\n"
        "audit:\n"
        "  sales_channels: [outbound_sales, webinar]\n"  # line 3: webinar is marketing's too
        "  no_opportunity_recreate:\n"
        "    window_days: -1\n"  # line 5
    )
    raw = yaml.safe_load(path.read_text())["audit"]
    _, issues = check_audit_settings(raw, path)
    assert [(i.line, i.path) for i in issues] == [(5, "audit.no_opportunity_recreate.window_days")]
    raw["no_opportunity_recreate"]["window_days"] = 5
    _, issues = check_audit_settings(raw, path)
    assert [(i.line, i.rule) for i in issues] == [(3, "channels_disjoint")]
    with pytest.raises(ConfigError, match=r"revalign.yaml:3"):
        audit_settings(raw, path)
    with pytest.raises(ConfigError, match="unknown channel"):
        audit_settings({"sales_channels": ["outbound"]})
