"""Property-based run of the whole API against its own OpenAPI schema: no input the schema allows (or nearly
allows) may produce a 500. Hypothesis generates the parameters; schemathesis checks every response."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory):
    """Same tiny project as the other API tests (every distinct generated filter set is computed once)."""
    from tests.interfaces.server.conftest import OPPORTUNITIES, USERS, write_canonical

    project = Project(tmp_path_factory.mktemp("fuzz"), engine="duckdb://:memory:")
    write_canonical(project, "opportunities", OPPORTUNITIES)
    write_canonical(project, "users", USERS)
    app = create_app(project, state_url="sqlite://", settings=ServerSettings())
    app.state.store.add_user("fuzzer", "password-123", "admin")
    app.state.token = app.state.store.create_token("fuzzer", "schemathesis")
    yield app
    project.close()


HEAVY = {
    "/api/v1/overview",
    "/api/v1/scorecards",
    "/api/v1/kpis/{name}",
    "/api/v1/funnel",
    "/api/v1/channels",
    "/api/v1/attribution",
}
"""Operations that evaluate the whole catalog or a model: fewer examples each, to keep the suite's budget."""


def test_no_input_gives_a_server_error(fuzz_app):
    """Every operation, a dozen generated cases each (schemathesis' pytest plugin predates pytest 9, so the
    operations' Hypothesis strategies are driven directly)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    headers = {"Authorization": f"Bearer {fuzz_app.state.token}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    failures: list[str] = []
    for operation in operations:
        heavy = operation.path in HEAVY
        examples = 3 if heavy else 10

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=[not_a_server_error])

        try:
            run()
        except Exception as exc:  # collect every operation's failure, not just the first
            failures.append(f"{operation.label}: {str(exc)[:600]}")
    assert not failures, "\n\n".join(failures)
