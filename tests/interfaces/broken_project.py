"""A project with one of each thing ``revalign check`` / ``GET /api/v1/checks`` must report, each at a known place.

- ``extra/x.yaml`` line 7: a KPI owned by nobody (catalog, rule ``governance``);
- ``trees/bad.yaml`` line 5: a formula with ``**`` (tree, rule ``formula_whitelist``);
- ``funnels.yaml`` line 3: ``order: sideways`` (funnel ``bad``, path ``bad.order``);
- ``targets.csv`` row 1, column kpi: an unknown KPI (rule ``kpi``);
- ``leads.csv`` row 3, column Created Date: not a date, quarantined on ingest (rule ``date_format``);
- ``scoring.yaml`` line 4: a scoring model owned by marketing only (model ``lead_score@1``, rule ``owners``).
"""

from __future__ import annotations

from pathlib import Path

from revalign.interfaces.cli import EXIT_OK, main

CATALOG = (
    "kpis:\n"  # 1
    "  - name: bad_kpi\n"  # 2
    "    description: x\n"  # 3
    "    type: simple\n"  # 4
    "    semantic_model: leads\n"  # 5
    "    unit: count\n"  # 6
    "    owner: nobody\n"  # 7: no such person
    "    department: sales\n"
    "    direction: higher_is_better\n"
    "    timing: leading\n"
    "    parent: new_leads\n"
)
TREE = (
    "tree:\n"  # 1
    "  name: bad\n"  # 2
    "  root: new_revenue\n"  # 3
    "  nodes:\n"  # 4
    "    new_revenue: win_rate ** 2\n"  # 5: a power is not allowed
)
FUNNELS = (
    "funnels:\n"  # 1
    "  bad:\n"  # 2
    "    order: sideways\n"  # 3: neither strict nor any
    "    steps:\n"
    "      - {name: a, event: {name: lead}}\n"
    "      - {name: b, event: {name: mql}}\n"
)
TARGETS = "kpi,period,value\nwin_rat,2025-Q1,0.3\n"  # row 1: unknown KPI
SCORING = (
    "scoring:\n"  # 1
    "  name: lead_score\n"  # 2
    "  version: 1\n"  # 3
    "  owners: [{name: CMO, department: marketing}]\n"  # 4: nobody from sales
    "  mql_threshold: 60\n"
    "  bands: {A: 60, B: 0}\n"
)
LEADS = "Lead ID,Created Date,Lead Source\nL1,2024-01-01,Email\nL2,2024-01-02,Webinar\nL3,not a date,Email\n"

COMP_PLAN = (
    "name: p\nversion: 1\ntarget_variable_pay: 1\nmeasures: [{name: m, kind: mqls, north_star: false, rate: 1}]\n"
)


def broken_project(tmp_path: Path) -> Path:
    """Initialise, ingest a file with one bad row, then write one broken definition of each kind."""
    folder = tmp_path / "proj"
    assert main(["init", str(folder)]) == EXIT_OK
    exports = tmp_path / "exports"
    exports.mkdir()
    (exports / "leads.csv").write_text(LEADS, encoding="utf-8")
    assert main(["ingest", str(exports), "-m", "generic_crm", "-p", str(folder)]) == EXIT_OK
    settings = folder / "revalign.yaml"
    settings.write_text(settings.read_text(encoding="utf-8") + "catalog: [extra]\n", encoding="utf-8")
    (folder / "extra").mkdir()
    (folder / "extra" / "x.yaml").write_text(CATALOG, encoding="utf-8")
    (folder / "trees").mkdir(exist_ok=True)
    (folder / "trees" / "bad.yaml").write_text(TREE, encoding="utf-8")
    (folder / "funnels.yaml").write_text(FUNNELS, encoding="utf-8")
    (folder / "targets.csv").write_text(TARGETS, encoding="utf-8")
    (folder / "scoring.yaml").write_text(SCORING, encoding="utf-8")
    (folder / "comp_plans").mkdir()
    (folder / "comp_plans" / "bad.yaml").write_text(COMP_PLAN, encoding="utf-8")
    return folder


def assert_every_finding_is_placed(sections: list[dict]) -> None:
    """Each broken thing appears in its section with its file and line (YAML) or row (CSV)."""
    by_name = {s["name"]: s for s in sections}
    expected = ["quarantine", "inputs", "catalog", "trees", "funnels", "targets", "agreements", "scoring", "comp_plans"]
    assert list(by_name) == expected
    plans = [(r["file"].rsplit("/", 1)[-1], r["line"], r["plan"], r["rule"]) for r in by_name["comp_plans"]["rows"]]
    assert plans == [("bad.yaml", 1, "p", "applies_to")]
    scoring = [(r["file"].rsplit("/", 1)[-1], r["line"], r["model"], r["rule"]) for r in by_name["scoring"]["rows"]]
    assert scoring == [("scoring.yaml", 4, "lead_score@1", "owners")]
    assert all(s["problems"] == len(s["rows"]) for s in sections if s["name"] not in ("quarantine", "inputs"))
    inputs = by_name["inputs"]
    assert inputs["problems"] == sum(r["level"] == "ERROR" for r in inputs["rows"])
    catalog = [(r["file"], r["line"], r["kpi"], r["rule"]) for r in by_name["catalog"]["rows"]]
    assert catalog == [("x.yaml", 7, "bad_kpi", "governance")]
    trees = [(Path(r["file"]).parts[-2:], r["line"], r["tree"], r["rule"]) for r in by_name["trees"]["rows"]]
    assert trees == [(("trees", "bad.yaml"), 5, "bad", "formula_whitelist")]
    (funnel,) = by_name["funnels"]["rows"]
    assert (funnel["file"], funnel["line"], funnel["funnel"]) == ("funnels.yaml", 3, "bad")
    assert funnel["path"] == "bad.order" and "'strict' or 'any'" in funnel["message"]
    targets = [(r["file"], r["row"], r["column"], r["kpi"], r["rule"]) for r in by_name["targets"]["rows"]]
    assert targets == [("targets.csv", 1, "kpi", "win_rat", "kpi")]
    quarantine = by_name["quarantine"]
    assert quarantine["problems"] == 1
    assert [(Path(r["file"]).name, r["row"], r["rule"], r["column"]) for r in quarantine["rows"]] == [
        ("leads.csv", 3, "date_format", "Created Date")
    ]
