"""``revalign check`` lists catalog, tree, funnel, target and quarantine findings, each with its place."""

from __future__ import annotations

import json

from revalign.interfaces.cli import EXIT_FINDINGS, main
from tests.interfaces.broken_project import assert_every_finding_is_placed, broken_project


def test_check_lists_every_kind_of_finding_with_file_and_line(tmp_path, capsys):
    folder = broken_project(tmp_path)
    capsys.readouterr()
    assert main(["check", "-p", str(folder), "--json"]) == EXIT_FINDINGS
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False
    assert_every_finding_is_placed(payload["sections"])
    assert main(["check", "-p", str(folder)]) == EXIT_FINDINGS
    text = capsys.readouterr().out
    for fragment in ("x.yaml", "governance", "bad.yaml", "formula_whitelist", "funnels.yaml", "targets.csv row 1"):
        assert fragment in text, fragment
    assert "date_format · Created Date" in text  # the quarantine section prints as it always has
