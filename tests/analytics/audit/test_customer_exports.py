"""Issue #14's customer path: two successive exports of the same CRM through the generic mapping, where between
them a rep re-sourced two leads (and one's opportunity) and a lead disqualified as "No Opportunity" came back as a
new lead and opportunity for the same person. The audit finds exactly those, with the rep who did it.

The fixture (``tests/sources/crm_exports.py``) states the expected findings by hand, read off the export texts.
"""

from __future__ import annotations

import pandas as pd

from revalign.analytics.audit.detect import detect
from revalign.analytics.audit.findings import HEADLINE_KINDS
from revalign.model.access import Tables
from revalign.sources import ingest
from tests.sources import crm_exports


def test_the_audit_finds_exactly_what_changed_between_two_exports(duckdb_engine, tmp_path):
    first, second = crm_exports.write_exports(tmp_path)
    ingest(duckdb_engine, first, "generic_crm")
    assert detect(Tables(duckdb_engine), kinds=HEADLINE_KINDS).empty  # one export alone shows no change
    ingest(duckdb_engine, second, "generic_crm")
    found = detect(Tables(duckdb_engine), kinds=HEADLINE_KINDS)
    for kind, expected in crm_exports.FINDINGS.items():
        rows = found[found["kind"] == kind]
        got = sorted(
            (r.entity_type, r.entity_id, None if pd.isna(r.related_id) else r.related_id) for r in rows.itertuples()
        )
        assert got == sorted(expected, key=str), kind
    overwrites = found[found["kind"] == "lead_source_overwrite"]
    assert set(overwrites["actor_id"]) == {"U2"}  # the rep named in "Last Modified By", not a cleanup job
    assert set(overwrites["channel_to"]) == {"outbound_sales"}
    recreated = found[found["kind"] == "no_opportunity_recreate"].iloc[0]
    assert (recreated["entity_id"], recreated["related_id"]) == ("L6", "L5")
