"""① Fault injection for crash tests: ``REVALIGN_FAULT_AFTER=<step>`` kills the loading process at a named step.

A load promises that a crash at any moment leaves the store as it was before the load or as it is after it. The
crash tests (``tests/sources/test_crash_safety.py``) prove that by running ``revalign ingest`` in a subprocess with
this variable set: when the load reaches the step of that name, the process sends itself ``SIGKILL`` (no cleanup,
no ``finally``, no atexit: what a power cut or the OOM killer does). Unset, a step costs one dictionary lookup.

The steps, in the order a load reaches them (``load.write.commit``):

- ``begin``: the write transaction is open, nothing written yet;
- ``raw:<table>``: after each raw copy (``_raw_<mapping>_<file>``) is written;
- ``ledger``: after the new ledger rows are appended;
- ``table:<table>``: after each canonical table is rewritten or appended to;
- ``quarantine``, ``load_log``: after those writes (``load_log`` is the last write of the load);
- ``commit``: after the transaction committed (the load is complete; the kill must change nothing).
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "REVALIGN_FAULT_AFTER"


def fault_point(step: str) -> None:
    """Kill this process with ``SIGKILL`` if ``$REVALIGN_FAULT_AFTER`` names ``step``."""
    if os.environ.get(FAULT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)
