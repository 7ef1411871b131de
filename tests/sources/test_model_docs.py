"""docs/model.md is generated from the canonical model; the committed copy must be up to date."""

from __future__ import annotations

from tests.conftest import REPO

from revalign.model.docs import render_markdown
from revalign.model.tables import TABLES


def test_committed_model_doc_is_up_to_date():
    committed = (REPO / "docs" / "model.md").read_text(encoding="utf-8")
    assert committed == render_markdown(), "run: python -m revalign.model.docs"


def test_every_table_and_column_is_documented():
    text = render_markdown()
    for table in TABLES.values():
        assert f"## {table.name}\n" in text
        for column in table.columns:
            assert f"| `{column.name}` | {column.dtype} |" in text
