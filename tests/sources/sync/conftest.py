"""The simulated company (scale s), its Fivetran Salesforce rendering and the file path's load, once for the package;
a fake org and a project configured to sync from it, per module."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from tests.sources.sync.fake_salesforce import FakeSalesforce, start
from tests.sources.warehouse.salesforce import salesforce_tables

from revalign.engine import Engine, connect
from revalign.project import Project, open_project
from revalign.simulate import SimulatedCompany, simulate
from revalign.sources import ingest

CLIENT_ID_ENV, SECRET_ENV = "REVALIGN_TEST_SF_CLIENT_ID", "REVALIGN_TEST_SF_SECRET"


@pytest.fixture(scope="package")
def company() -> SimulatedCompany:
    return simulate(scale="s", seed=0)


@pytest.fixture(scope="package")
def tables(company) -> dict[str, pa.Table]:
    return salesforce_tables(company)


@pytest.fixture(scope="package")
def file_path(company, tmp_path_factory) -> Engine:
    """The file path: the simulator's canonical tables as Parquet, loaded with the canonical mapping."""
    folder = tmp_path_factory.mktemp("canonical")
    company.to_parquet(folder)
    engine = connect("duckdb://:memory:")
    ingest(engine, folder, "canonical")
    return engine


@dataclass
class Org:
    """A fake org, the CA bundle that verifies it, and the environment a project reads its credentials from."""

    fake: FakeSalesforce
    bundle: Path

    @property
    def environment(self) -> dict[str, str]:
        return {CLIENT_ID_ENV: self.fake.client_id, SECRET_ENV: self.fake.client_secret}

    def project(self, folder: Path) -> Project:
        """A project in ``folder`` whose revalign.yaml syncs from this org (secrets as ${ENV} references)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "revalign.yaml").write_text(
            "engine: duckdb:///revalign.duckdb\n"
            "sync:\n"
            "  salesforce:\n"
            f"    login_url: {self.fake.url}\n"
            f"    client_id: ${{{CLIENT_ID_ENV}}}\n"
            f"    client_secret: ${{{SECRET_ENV}}}\n"
            f"    ca_bundle: {self.bundle}\n"
            "    backoff: 0.1\n",
            encoding="utf-8",
        )
        return open_project(folder)


def started_org(tables: dict[str, pa.Table], folder: Path, **faults: object) -> Iterator[Org]:
    fake, bundle = start(tables, folder, **faults)
    with pytest.MonkeyPatch.context() as env:
        org = Org(fake, bundle)
        for name, value in org.environment.items():
            env.setenv(name, value)
        try:
            yield org
        finally:
            fake.server.stop()


@pytest.fixture(scope="module")
def org(tables, tmp_path_factory) -> Iterator[Org]:
    """A fake org with its faults: a 429 on the 3rd query page, an expired session on the 5th, a deleted lead."""
    yield from started_org(tables, tmp_path_factory.mktemp("org"))
