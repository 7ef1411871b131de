"""One thread for scikit-learn's OpenMP loops in these tests: CI has two shared cores, and gradient boosting's
spinning threads slow every fit many times over when the machine is busy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True, scope="module")
def _one_openmp_thread() -> Iterator[None]:
    with threadpool_limits(limits=1, user_api="openmp"):
        yield
