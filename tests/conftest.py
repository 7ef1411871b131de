"""Shared fixtures: the public data folder, and an ``engine`` fixture over every backend.

``engine`` runs a test body on DuckDB always, and on a real PostgreSQL server and a real local Spark session
(marked ``postgres`` / ``spark``, so ``-m "not spark"`` skips the slow one). Each test gets an empty namespace:
a fresh in-memory DuckDB, a fresh Postgres database, a fresh Spark database. ``module_engine`` is the same over a
whole module, for tests that read one data set loaded once per engine (the KPI cases and oracles).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from revalign.engine import Engine, connect

REPO = Path(__file__).resolve().parents[1]
_counter = itertools.count()


def shared_dir() -> Path:
    """``$REVALIGN_SHARED`` or ``../shared`` beside the repository (as laid out in CI)."""
    return Path(os.environ.get("REVALIGN_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    data = shared_dir() / "data"
    if not data.is_dir():
        pytest.fail(f"shared data not found at {data}; set REVALIGN_SHARED")
    return data


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    from tests.servers import start_postgres

    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def spark_session_engine() -> Engine:
    return connect("spark://local[2]")


ENGINES = [
    "duckdb",
    pytest.param("postgres", marks=pytest.mark.postgres),
    pytest.param("spark", marks=pytest.mark.spark),
]


def make_engine(kind: str, request: pytest.FixtureRequest) -> Engine:
    """An engine of ``kind`` on an empty namespace."""
    n = next(_counter)
    if kind == "duckdb":
        return connect("duckdb://:memory:")
    if kind == "postgres":
        server = request.getfixturevalue("postgres_server")
        return connect(server.create_database(f"t{os.getpid()}_{n}"))
    if kind == "spark":
        base = request.getfixturevalue("spark_session_engine")
        db = f"t{os.getpid()}_{n}"
        session = base.con._session
        session.sql(f"CREATE DATABASE IF NOT EXISTS {db}")
        session.catalog.setCurrentDatabase(db)
        return base
    raise ValueError(kind)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """The same test body on DuckDB, PostgreSQL and Spark."""
    eng = make_engine(request.param, request)
    yield eng
    if request.param != "spark":
        eng.close()


@pytest.fixture(scope="module", params=ENGINES)
def module_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """``engine`` shared by a module's tests, so a data set is loaded once per engine rather than once per test.

    Loading costs seconds on Postgres and Spark, reading a loaded table little. On Spark the namespace is the
    shared session's current database, which ``engine`` switches for each test: a module that uses this fixture
    must not also use ``engine`` (a function-scoped fixture, so no other module's tests run in between).
    """
    eng = make_engine(request.param, request)
    yield eng
    if request.param != "spark":
        eng.close()


@pytest.fixture(scope="module", params=ENGINES[:2])
def module_sql_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """``module_engine`` on DuckDB and PostgreSQL only: for a module that loads a whole simulated company, which
    costs minutes on the local Spark; its logic must then also be checked on Spark on a small hand-made book."""
    eng = make_engine(request.param, request)
    yield eng
    eng.close()


@pytest.fixture
def duckdb_engine() -> Iterator[Engine]:
    eng = connect("duckdb://:memory:")
    yield eng
    eng.close()
