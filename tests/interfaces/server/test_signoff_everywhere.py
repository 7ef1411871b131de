"""Only signed agreement versions count everywhere: the SLA alerts of ``revalign refresh`` and the overview's SLA
line ignore a proposed version 2 (follow-up within 12 hours instead of 24, from 2025-07-01) until every signatory
signed it, and follow it from then on — each checked against the library run directly on the expected versions."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
import yaml
from fastapi import FastAPI

from revalign.analytics.sla import sla_breaches
from revalign.interfaces.server import create_app
from revalign.interfaces.server.reports.overview import process_lines
from revalign.interfaces.server.scheduler import refresh_and_record
from revalign.interfaces.server.state import StateStore
from revalign.interfaces.server.state.agreement_signoff import propose_version
from revalign.interfaces.server.state.approvals import Approvals
from revalign.project import Project
from tests.interfaces.server.agreement_versions import V1, V2, book, write_versions

SINCE = "2025-07-01"
RULES = {
    "alerts": {
        "late": {
            "condition": "sla_breached",
            "params": {"sla": "mql_followup", "since": SINCE},
            "audience": {"roles": ["sales"]},
            "channels": ["inbox"],
        }
    }
}
SIGNERS = {"cmo": "marketing", "vp": "sales", "ops": "revops"}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    from revalign.simulate import simulate

    folder = tmp_path_factory.mktemp("signoff-everywhere")
    write_versions(folder)
    (folder / "alerts.yaml").write_text(yaml.safe_dump(RULES), encoding="utf-8")
    project = Project(folder, engine="duckdb://:memory:")
    simulate(scale="xs", seed=3).write(project.engine)
    yield project
    project.close()


@pytest.fixture(scope="module")
def store(project: Project, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StateStore]:
    db = StateStore(f"sqlite:///{tmp_path_factory.mktemp('st') / 's.sqlite'}")
    db.migrate()
    db.add_user("lead", "password-123", "leadership")
    for user, role in SIGNERS.items():
        db.add_user(user, "password-123", role)
    yield db
    db.close()


def expected_firings(project: Project, *texts: str) -> dict[tuple[str, str], int]:
    """Breaches of the follow-up SLA per owner and month since July 2025, from the library on ``texts``."""
    ledger = sla_breaches(project.tables, book(*texts), slas=["mql_followup"])
    ledger = ledger[pd.to_datetime(ledger["done_at"]) >= pd.Timestamp(SINCE)]
    months = pd.to_datetime(ledger["done_at"]).dt.strftime("%Y-%m")
    return {(str(o), str(m)): int(n) for (o, m), n in ledger.groupby([ledger["owner_id"], months]).size().items()}


def fired(project: Project, store: StateStore) -> dict[tuple[str, str], int]:
    report = refresh_and_record(project, store, sources=False, send=False)
    assert report.evaluation is not None and not report.problems, report.problems
    return {(a.firing.facts["owner_id"], a.firing.period): int(a.firing.state) for a in report.evaluation.alerts}


def sla_line(app: FastAPI) -> str:
    """The overview's SLA line for 2025-Q3 as the server computes it: the report cache's version check reads
    the sign-off (and sets the project to count it), then the overview's own function writes the line."""
    app.state.cache.version()
    return next(line["text"] for line in process_lines(app.state.project, "2025-Q3") if line["id"] == "sla")


def test_an_unsigned_version_changes_no_alert_and_no_overview_line_until_signed(project, store) -> None:
    under_v1, under_both = expected_firings(project, V1), expected_firings(project, V1, V2)
    assert sum(under_both.values()) > sum(under_v1.values()) > 0  # the 12-hour SLA breaches more
    app = create_app(project, state_url=str(store.db.url))
    approvals = Approvals(store)
    q3 = {"start": "2025-07-01", "end": "2025-10-01"}

    assert fired(project, store) == under_v1
    line_v1 = sla_line(app)
    assert f"{len(sla_breaches(project.tables, book(V1), slas=['mql_followup'], **q3))} " in line_v1

    spec = next(v for v in project.agreements().versions if v.version == 2)
    rec = propose_version(approvals, spec, by="cmo")
    for user in ("cmo", "vp"):  # two of the three signatories: still not counted
        approvals.sign(rec.id, store.get_user(user), rec.content_hash)
    assert fired(project, store) == under_v1
    assert sla_line(app) == line_v1

    approvals.sign(rec.id, store.get_user("ops"), rec.content_hash)
    assert fired(project, store) == under_both
    line_both = sla_line(app)
    assert line_both != line_v1
    assert f"{len(sla_breaches(project.tables, book(V1, V2), slas=['mql_followup'], **q3))} " in line_both
