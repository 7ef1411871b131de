"""KPIs slice by score band: a project's KPI over the default ``lead_scores`` semantic model ("MQLs under the
agreed version") counted by band and by the lead's segment, against pandas on the scores table."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from revalign.definitions.scoring import ScoringModel
from revalign.project import init_project, open_project
from revalign.simulate import SimulatedCompany

KPI = """
kpis:
  - name: agreed_mqls
    label: MQLs under lead_score v1
    description: Leads whose score under the agreed version reaches its MQL threshold, by the day they were scored.
    type: simple
    semantic_model: lead_scores
    agg: count
    filter: "is_mql and score_model = 'lead_score' and score_version = 1"
    unit: count
    owner: cmo
    department: marketing
    direction: higher_is_better
    timing: leading
    parent: mqls
    relation: driver
"""


def test_mqls_under_an_agreed_version_by_band_and_segment(
    tmp_path: Path, company: SimulatedCompany, sim_model: ScoringModel
) -> None:
    init_project(tmp_path, engine_url="duckdb://:memory:")
    settings = yaml.safe_load((tmp_path / "revalign.yaml").read_text())
    (tmp_path / "revalign.yaml").write_text(yaml.safe_dump({**settings, "catalog": ["catalog"]}))
    (tmp_path / "catalog" / "kpis").mkdir(parents=True)
    (tmp_path / "catalog" / "kpis" / "scoring.yaml").write_text(KPI)
    project = open_project(tmp_path)
    company.write(project.engine)
    project.apply_scores(sim_model, dt.date(2025, 12, 31))
    other = sim_model.model_copy(update={"version": 2, "mql_threshold": 40.0})
    project.apply_scores(other, dt.date(2025, 12, 31))  # another version's MQLs are not the agreed ones
    scores = project.engine.execute(project.table("scores"))
    agreed = scores[(scores["version"] == 1) & scores["is_mql"]]
    by_band = project.kpi("agreed_mqls").by("score_band").grain("year").to_pandas().set_index("score_band")["value"]
    assert by_band.to_dict() == pytest.approx(agreed.groupby("band").size().astype(float).to_dict())
    leads = company.tables["leads"].to_pandas().set_index("lead_id")
    by_segment = project.kpi("agreed_mqls").by("segment").grain("year").to_pandas().set_index("segment")["value"]
    expected = agreed["lead_id"].map(leads["segment"]).value_counts().astype(float).to_dict()
    assert by_segment.to_dict() == pytest.approx(expected)
    assert len(scores[scores["version"] == 2]) == len(scores[scores["version"] == 1])
    project.close()
