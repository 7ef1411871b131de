"""``revalign disputes``: a sales manager opens a dispute on a rejected MQL from the terminal, marketing comments and
overturns it; the same store the server reads (the JSON output is the API's dispute object).

The company is the hand-made one of tests/interfaces/server/test_disputes.py (L1 rejected "no budget", owner u1).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from revalign.interfaces.cli import EXIT_OK, main
from revalign.interfaces.server.state import StateStore, default_state_url
from revalign.interfaces.server.state.alerts import AlertStore
from revalign.project import init_project, open_project
from tests.interfaces.server.conftest import write_canonical
from tests.interfaces.server.test_disputes import LEADS, LEDGER, USERS


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-disputes")
    init_project(path, name="cli disputes")
    project = open_project(path)
    for name, frame in (("leads", LEADS), ("users", USERS), ("ledger", LEDGER)):
        write_canonical(project, name, frame)
    project.close()
    store = StateStore(default_state_url(path))
    store.migrate()
    for user, role in (("sam", "sales"), ("mia", "marketing")):
        store.add_user(user, "password-123", role)
    store.close()
    return path


def run(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, str, str]:
    code = main(["disputes", *args, "--project", str(folder)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_open_comment_resolve_and_list_from_the_terminal(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys,
        folder,
        "open",
        "--user",
        "sam",
        "--kind",
        "mql_rejection",
        "--lead-id",
        "L1",
        "--note",
        "Budget is there",
        "--json",
    )
    assert code == EXIT_OK
    opened = json.loads(out)
    assert (opened["title"], opened["against"], opened["status"]) == (
        "sales disputes rejection of MQL L1 (rejected: no budget)",
        "marketing",
        "open",
    )
    code, _, err = run(
        capsys, folder, "open", "--user", "sam", "--kind", "mql_rejection", "--lead-id", "L2", "--note", "x"
    )
    assert code != EXIT_OK and "its latest decision is accepted" in err
    assert run(capsys, folder, "comment", str(opened["id"]), "--user", "mia", "--text", "Looking")[0] == EXIT_OK
    code, _, err = run(
        capsys, folder, "resolve", str(opened["id"]), "--user", "sam", "--resolution", "upheld", "--note", "n"
    )
    assert code != EXIT_OK and "may mark dispute" in err  # the opener may withdraw, not uphold
    code, out, _ = run(
        capsys,
        folder,
        "resolve",
        str(opened["id"]),
        "--user",
        "mia",
        "--resolution",
        "overturned",
        "--note",
        "Right",
        "--json",
    )
    assert code == EXIT_OK
    assert [e["action"] for e in json.loads(out)["thread"]] == ["opened", "comment", "resolved"]
    code, out, _ = run(capsys, folder, "list", "--json")
    assert [(r["id"], r["status"], r["resolution"]) for r in json.loads(out)] == [
        (opened["id"], "resolved", "overturned")
    ]
    store = StateStore(default_state_url(folder))
    inbox = AlertStore(store).inbox(store.get_user("mia").id)
    assert [i["alert"]["condition"] for i in inbox] == ["dispute_opened"]
    store.close()
