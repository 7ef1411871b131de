"""A sync stopped half-way (the client raises after N pages) keeps the objects it finished, and the next sync (from
the command line) reads only the rest and converges to the file path's ledger and KPIs; credentials are checked
before any request, and a refused sign-in says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.sources.sync.conftest import started_org
from tests.sources.sync.fake_salesforce import OBJECT_TABLES, api_name
from tests.sources.warehouse.test_fivetran_salesforce import assert_same_kpis, assert_same_ledger

from revalign.errors import ConfigError
from revalign.interfaces.cli import EXIT_CONFIG, EXIT_OK, main
from revalign.sources.sync import SalesforceClient, SyncError, salesforce_config, sync_salesforce
from revalign.sources.sync.landing import RawStore, fivetran_name

pytestmark = pytest.mark.slow


class Interrupted(Exception):
    """The process dying half-way through a sync."""


class StopsAfter(SalesforceClient):
    """A real client whose process 'dies' once it has read ``pages`` pages."""

    def __init__(self, *args: Any, pages: int) -> None:
        super().__init__(*args)
        self.left = pages

    def pages(self, soql: str) -> Iterator[list[dict[str, Any]]]:
        for page in super().pages(soql):
            if self.left == 0:
                raise Interrupted
            self.left -= 1
            yield page


@pytest.fixture(scope="module")
def quiet_org(tables, tmp_path_factory):
    """A fake org without faults (the other module exercises them)."""
    yield from started_org(tables, tmp_path_factory.mktemp("quiet"), rate_limit_on=None, expire_on=None)


def test_a_sync_stopped_midway_resumes_and_converges(quiet_org, tables, file_path, tmp_path, capsys) -> None:
    project = quiet_org.project(tmp_path / "proj")
    config = salesforce_config(project.settings.sync["salesforce"])
    with pytest.raises(Interrupted):  # User 1 + Account 13 + Campaign 1 pages, then 10 of CampaignMember's 206
        sync_salesforce(project, client=StopsAfter(config, pages=25))
    finished = RawStore(project.engine, "salesforce").cursors().index
    assert list(finished) == ["User", "Account", "Campaign"]
    assert "campaign_member" not in RawStore(project.engine, "salesforce").tables()  # half an object never lands
    capsys.readouterr()
    assert main(["sync", "salesforce", "-p", str(project.folder), "--json"]) == EXIT_OK
    resumed = {o["sobject"]: o for o in json.loads(capsys.readouterr().out)["objects"]}
    assert all(resumed[name]["records"] == 0 for name in finished)  # not read again
    assert resumed["CampaignMember"]["records"] == tables["campaign_member"].num_rows
    store = RawStore(project.engine, "salesforce")
    for table in OBJECT_TABLES.values():
        landed = store.read(table)
        assert landed is not None and sorted(landed["id"].to_pylist()) == sorted(tables[table]["id"].to_pylist())
    assert_same_ledger(file_path, project.engine)
    assert_same_kpis(file_path, project.engine)


def test_a_refused_sign_in_names_the_flow(quiet_org, tmp_path) -> None:
    project = quiet_org.project(tmp_path / "proj")
    config = salesforce_config(project.settings.sync["salesforce"]).model_copy(update={"client_secret": "wrong"})
    with pytest.raises(SyncError, match=r"refused the sign-in \(client_credentials flow.*invalid client credentials"):
        SalesforceClient(config).sign_in()
    (project.folder / "revalign.yaml").write_text(
        (project.folder / "revalign.yaml").read_text().replace("${REVALIGN_TEST_SF_SECRET}", "${WRONG_SECRET}")
    )
    assert main(["sync", "salesforce", "-p", str(project.folder)]) == EXIT_CONFIG  # WRONG_SECRET is not set


def test_missing_credentials_name_the_variable() -> None:
    with pytest.raises(ConfigError, match="SALESFORCE_CLIENT_ID"):
        salesforce_config(None, environ={})
    with pytest.raises(ConfigError, match="environment variable MY_SF_SECRET, which is not set"):
        salesforce_config({"client_id": "key", "client_secret": "${MY_SF_SECRET}"}, environ={})
    with pytest.raises(ConfigError, match="SALESFORCE_PASSWORD"):
        salesforce_config({"username": "ops@example.com"}, environ={"SALESFORCE_CLIENT_ID": "k",
                                                                     "SALESFORCE_CLIENT_SECRET": "s"})  # fmt: skip


def test_a_secret_written_in_the_file_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"client_secret: .*must be a \$\{ENV_VAR\} reference"):
        salesforce_config({"client_id": "key", "client_secret": "hunter2"}, environ={})


def test_the_environment_alone_configures_a_client_credentials_sync() -> None:
    config = salesforce_config(None, environ={"SALESFORCE_CLIENT_ID": "k", "SALESFORCE_CLIENT_SECRET": "s"})
    assert (config.login_url, config.flow, config.schema_) == ("https://login.salesforce.com", "client_credentials",
                                                               "salesforce")  # fmt: skip
    password = salesforce_config({"username": "u", "password": "${P}"}, environ={"SALESFORCE_CLIENT_ID": "k",
                                 "SALESFORCE_CLIENT_SECRET": "s", "P": "pw"})  # fmt: skip
    assert (password.flow, password.password) == ("password", "pw")


def test_fivetran_names_round_trip_every_column(tables) -> None:
    for table in tables.values():
        for column in table.column_names:
            if not column.startswith("_"):
                assert fivetran_name(api_name(column)) == column
    assert [fivetran_name(n) for n in OBJECT_TABLES] == list(OBJECT_TABLES.values())
