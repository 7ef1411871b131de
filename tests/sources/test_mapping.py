"""The mapping file: validated as a whole, errors with file and line, shipped mappings all valid."""

from __future__ import annotations

import pytest

from revalign.errors import ConfigError, UnknownNameError
from revalign.model.tables import CHANNELS
from revalign.sources import load_mapping, shipped_mappings


def test_shipped_mappings_load_and_map_channels_to_canonical_codes():
    assert set(shipped_mappings()) >= {"olist", "x_education", "generic_crm", "canonical"}
    for name in shipped_mappings():
        spec = load_mapping(name)
        assert spec.name == name
        for vmap_name in ("olist_origin", "x_lead_source", "channel"):
            if vmap_name in spec.values:
                vmap = spec.values[vmap_name]
                codes = {v for v in vmap.map.values() if v is not None} | {vmap.blank} - {None}
                assert codes <= set(CHANNELS), (name, codes - set(CHANNELS))


def test_errors_name_the_file_and_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\n"  # line 1
        "targets:\n"  # line 2
        "  - name: leads\n"  # line 3
        "    files: [leads.csv]\n"  # line 4
        "    table: leads\n"  # line 5
        "    columns:\n"  # line 6
        "      lead_id: Id\n"  # line 7
        "      created_at: {from: Created, value: 1}\n",  # line 8: two sources
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    text = str(info.value)
    assert f"{path}:8: targets.0.columns.created_at: a column needs exactly one of from, value" in text


def test_unknown_value_map_and_table_are_reported(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "name: bad\ntargets:\n  - name: t\n    files: [x.csv]\n    table: leeds\n    columns: {lead_id: Id}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"bad.yaml:3: targets.0: table must be one of"):
        load_mapping(path)


def test_unknown_mapping_name_suggests_close_names():
    with pytest.raises(UnknownNameError, match="Did you mean 'olist'"):
        load_mapping("olsit")


def test_required_canonical_columns_must_be_mapped(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\ntargets:\n  - name: t\n    files: [x.csv]\n    table: leads\n    columns: {lead_id: Id}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="leads needs a value for created_at"):
        load_mapping(path)


def test_unknown_canonical_column_is_named(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "name: m\ntargets:\n  - name: t\n    files: [x.csv]\n    table: leads\n"
        "    columns: {lead_id: Id, created_at: C, lead_sauce: S}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"m.yaml:3: targets.0: lead_sauce not a column of leads; columns are"):
        load_mapping(path)


def test_the_documented_example_mapping_is_valid(tmp_path):
    from tests.conftest import REPO

    doc = (REPO / "docs" / "mappings.md").read_text(encoding="utf-8")
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "example.yaml"
    path.write_text(example, encoding="utf-8")
    spec = load_mapping(path)
    assert spec.targets[0].columns["lead_source"].values == "channel"
