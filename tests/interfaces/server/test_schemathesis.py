"""Property-based run of the whole API against its own OpenAPI schema: no input the schema allows (or nearly
allows) may produce a 500. Hypothesis generates the parameters; schemathesis checks every response.

Every operation of the schema is run, in both of schemathesis' modes: *positive* cases (what the schema allows)
and *negative* ones (wrong types, missing fields, out-of-range values, which must be refused with a 4xx, never a
5xx). The number of examples per operation is bounded and derandomised, so the run fits CI's budget and a failure
reproduces. Each operation gets a fresh API token, so an operation that revokes tokens cannot hide the next
operation's errors behind 401s.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from revalign.interfaces.server import ServerSettings, create_app
from revalign.project import Project

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory):
    """The other API tests' tiny project, its deals marked new business with a close date so that the north star
    has values and the overview and scorecards compute instead of answering 422 to every case."""
    from tests.interfaces.server.conftest import OPPORTUNITIES, USERS, write_canonical

    project = Project(tmp_path_factory.mktemp("fuzz"), engine="duckdb://:memory:")
    deals = OPPORTUNITIES.assign(deal_type="new_business", closed_at=OPPORTUNITIES["created_at"])
    write_canonical(project, "opportunities", deals)
    write_canonical(project, "users", USERS)
    app = create_app(project, state_url="sqlite://", settings=ServerSettings())
    app.state.store.add_user("fuzzer", "password-123", "admin")
    yield app
    project.close()


HEAVY = {
    "/api/v1/overview",
    "/api/v1/scorecards",
    "/api/v1/kpis/{name}",
    "/api/v1/funnel",
    "/api/v1/channels",
    "/api/v1/attribution",
    "/api/v1/sla",
    "/api/v1/audit",
    "/api/v1/incentives",
}
"""Operations that evaluate the whole catalog or a model: fewer examples each, to keep the suite's budget."""
EXAMPLES = {GenerationMode.POSITIVE: (10, 3), GenerationMode.NEGATIVE: (6, 2)}
"""Examples per operation and mode: (ordinary, heavy)."""
KNOWN_NAMES = {"/api/v1/kpis/{name}": ("new_revenue", "win_rate")}
"""Path parameters that random text never hits: a few extra positive cases with real names."""


def api_operations(app) -> set[str]:
    """``METHOD /path`` of every operation the app's OpenAPI document lists."""
    return {f"{method.upper()} {path}" for path, item in app.openapi()["paths"].items() for method in item}


def fuzz(
    operation, mode: GenerationMode, headers: dict[str, str], seen: Counter[int], name: str | None = None
) -> str | None:
    """Run one operation's bounded examples in one mode (with ``name`` as its path parameter if given); the
    failure text, or ``None``."""
    ordinary, heavy = EXAMPLES[mode]
    strategy = operation.as_strategy(generation_mode=mode, path_parameters={"name": name} if name else None)

    @given(case=strategy)
    @settings(
        max_examples=heavy if operation.path in HEAVY else ordinary,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def run(case) -> None:
        # a cold overview computes the whole catalog: on a busy CI machine that can pass the default 10 s timeout
        response = case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=120)
        seen[response.status_code] += 1

    try:
        run()
    except Unsatisfiable:  # no input can break the schema (no parameters, or only free-form strings): nothing to try
        return None
    except Exception as exc:  # collect every operation's failure, not just the first
        return f"{operation.label} ({mode.value}): {str(exc)[:600]}"
    return None


def test_no_input_gives_a_server_error(fuzz_app):
    """Every operation, positive and negative cases (schemathesis' pytest plugin predates pytest 9, so the
    operations' Hypothesis strategies are driven directly)."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} == api_operations(fuzz_app)  # nothing left out of the run
    assert len(operations) >= 20
    statuses: dict[str, Counter[int]] = {op.label: Counter() for op in operations}
    failures = []
    for operation in operations:
        headers = {"Authorization": f"Bearer {fuzz_app.state.store.create_token('fuzzer', operation.label)}"}
        for mode in EXAMPLES:
            failures.append(fuzz(operation, mode, headers, statuses[operation.label]))
        for name in KNOWN_NAMES.get(operation.path, ()):
            failures.append(fuzz(operation, GenerationMode.POSITIVE, headers, statuses[operation.label], name))
    assert not any(failures), "\n\n".join(f for f in failures if f)
    unreached = [label for label, seen in statuses.items() if set(seen) <= {401, 403}]
    assert not unreached, f"never got past authentication: {unreached}"
