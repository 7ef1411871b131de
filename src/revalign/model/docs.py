"""② ``docs/model.md``, generated from :mod:`revalign.model.tables` so the documentation cannot drift.

``python -m revalign.model.docs`` rewrites the file; a test regenerates it and compares with the committed copy.
"""

from __future__ import annotations

import sys
from pathlib import Path

from revalign.model.tables import CHANNELS, LIFECYCLE_STAGES, OPPORTUNITY_STAGES, TABLES

HEADER = """# The canonical revenue model

_Generated from `src/revalign/model/tables.py` by `python -m revalign.model.docs`; do not edit by hand._

Every source maps into these tables (see [mappings.md](mappings.md)); every KPI, funnel, attribution model and
page reads only them. Ids are strings, timestamps naive UTC, money in the project currency, categorical values
snake_case codes. Current-state tables are upserted by key on each load; their history lives in the append-only
`ledger`.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown() -> str:
    """The whole of ``docs/model.md``."""
    out = [HEADER]
    out.append("## Tables\n")
    out.append("| table | grain | key | time column |")
    out.append("|---|---|---|---|")
    for t in TABLES.values():
        key = ", ".join(t.primary_key) or "—"
        out.append(f"| [`{t.name}`](#{t.name}) | {t.grain} | {key} | {t.time_column or '—'} |")
    out.append("")
    for t in TABLES.values():
        out.append(f"## {t.name}\n")
        out.append(f"{t.description}\n")
        facts = [f"Grain: {t.grain}."]
        if t.primary_key:
            facts.append(f"Primary key: `{', '.join(t.primary_key)}`.")
        if t.append_only:
            facts.append("Append-only: rows are never updated or deleted.")
        out.append(" ".join(facts) + "\n")
        out.append("| column | type | required | meaning | allowed values |")
        out.append("|---|---|---|---|---|")
        for c in t.columns:
            allowed = ", ".join(f"`{v}`" for v in c.enum) if c.enum else ""
            required = "yes" if not c.nullable else ""
            out.append(f"| `{c.name}` | {c.dtype} | {required} | {_cell(c.description)} | {allowed} |")
        if t.foreign_keys:
            refs = "; ".join(f"`{fk.column}` → `{fk.ref_table}.{fk.ref_column}`" for fk in t.foreign_keys)
            out.append(f"\nForeign keys: {refs}.")
        out.append("")
    out.append("## Code lists\n")
    out.append(f"- Channels: {', '.join(f'`{c}`' for c in CHANNELS)}.")
    out.append(f"- Lifecycle stages (funnel order): {', '.join(f'`{c}`' for c in LIFECYCLE_STAGES)}.")
    out.append(f"- Opportunity stages: {', '.join(f'`{c}`' for c in OPPORTUNITY_STAGES)}.")
    return "\n".join(out) + "\n"


def write(path: str | Path = "docs/model.md") -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_markdown(), encoding="utf-8")
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write(sys.argv[1] if len(sys.argv) > 1 else "docs/model.md"))
